"""The images of the organization's branding (organizationalbrandinglocalization-update): each uploaded with
a PUT of its bytes to {localization}/{image}, read back with a GET, and given a new CDN address
({image}RelativeUrl, with the upload's time) at each upload. A localization without one answers 404
[UNCONFIRMED: the pages show no read of an image that was never set].

The simulator answers with text, so its images are text: what a client hashes is what was uploaded, as long
as it is UTF-8 (tests upload a few ASCII bytes).
"""

from __future__ import annotations

from entragit.sim.errors import bad_request, resource_not_found
from entragit.sim.graph import NO_CONTENT, GraphApi, GraphRequest, GraphResponse
from entragit.sim.model_identity import PARENT
from entragit.sim.model_tenant_config import BRANDING_IMAGES, BRANDING_LOCALIZATIONS

_STORED = "@sim.image."


def image_url(tenant_id: str, localization: str, image: str, ticks: int) -> str:
    """The CDN address Graph gives an uploaded image (organizationalbranding-list-localizations shows its form)."""
    return f"{tenant_id[:8]}/logintenantbranding/{localization}/{image.lower()}?ts={ticks}"


def stored_image(image: str, data: str) -> dict[str, str]:
    """The keys of a localization that hold an image and its address, as an upload leaves them."""
    return {_STORED + image: data}


class BrandingImages:
    def __init__(self, api: GraphApi) -> None:
        self.api = api
        at = ("organization", "{id}", "branding", "localizations", "{item}", "{image}")
        api._route(at, GET=self.get_image, PUT=self.put_image)

    def _localization(self, params: list[str]) -> dict[str, object]:
        organization, item, image = params
        if image not in BRANDING_IMAGES:
            raise bad_request(f"'{image}' is not an image of a branding.")
        found = self.api.tenant.objects[BRANDING_LOCALIZATIONS.name].get(item)
        if found is None or found[PARENT] != organization:
            raise resource_not_found(item)
        return found

    def get_image(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        data = self._localization(params).get(_STORED + params[2])
        if not isinstance(data, str):
            raise resource_not_found(params[2])
        return GraphResponse(200, text=data)

    def put_image(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        localization = self._localization(params)
        if not request.body:
            raise bad_request("The image is empty.")
        localization.update(stored_image(params[2], request.body.decode("utf-8", errors="replace")))
        ticks = int(self.api.tenant.clock.utcnow().timestamp() * 10**7)
        localization[f"{params[2]}RelativeUrl"] = image_url(self.api.tenant.tenant_id, params[1], params[2], ticks)
        return GraphResponse(NO_CONTENT)
