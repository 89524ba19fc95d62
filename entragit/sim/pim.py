"""Routes for the governance collections of model_pim.py beyond the generic ones of graph.py.

PIM's policies and policy assignments are listed per scope only, so their lists refuse a call without a
$filter on scopeId and scopeType; a policy's rules are returned with it on $expand=rules and are read and
PATCHed one by one under it (unifiedrolemanagementpolicyrule-update); an access review definition is
updated by a PUT of the whole definition (accessreviewscheduledefinition-update).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from entragit.sim.errors import bad_request, resource_not_found
from entragit.sim.graph import NO_CONTENT, GraphApi, GraphRequest, GraphResponse, Handler
from entragit.sim.model import OBJS, STRS, CollectionSpec, check_write
from entragit.sim.model_pim import (
    ACCESS_REVIEW_DEFINITIONS,
    AGREEMENT_FILE_PROPERTIES,
    REVIEW_UPDATABLE,
    ROLE_MANAGEMENT_POLICIES,
    ROLE_MANAGEMENT_POLICY_ASSIGNMENTS,
    ROLE_MANAGEMENT_POLICY_RULES,
    RULES,
    TERMS_OF_USE,
)
from entragit.sim.query import QueryTarget, context_url, page_size_for, paginate, parse_query, project, target_for


def _rule_target() -> QueryTarget:
    spec = ROLE_MANAGEMENT_POLICY_RULES
    return QueryTarget(spec.type_name, spec.resource_name, spec.all_properties())


class PimApi:
    def __init__(self, api: GraphApi) -> None:
        self.api = api
        self.tenant = api.tenant
        policies = ROLE_MANAGEMENT_POLICIES.segments
        self._methods(policies)["GET"] = self.list_policies
        self._methods((*policies, "{id}"))["GET"] = self.get_policy
        self._methods(ROLE_MANAGEMENT_POLICY_ASSIGNMENTS.segments)["GET"] = self.list_policy_assignments
        api._route((*policies, "{id}", "rules"), GET=self.list_rules)
        api._route((*policies, "{id}", "rules", "{rule}"), GET=self.get_rule, PATCH=self.update_rule)
        self._methods((*ACCESS_REVIEW_DEFINITIONS.segments, "{id}"))["PUT"] = self.replace_review
        self._methods(TERMS_OF_USE.segments)["GET"] = self.list_agreements
        self._methods((*TERMS_OF_USE.segments, "{id}"))["GET"] = self.get_agreement

    def _methods(self, template: tuple[str, ...]) -> dict[str, Handler]:
        return next(methods for route, methods in self.api.routes if route == template)

    # --- role management policies ----------------------------------------------------------------------------

    def _policy_target(self) -> QueryTarget:
        plain = target_for(ROLE_MANAGEMENT_POLICIES, with_expand=False)
        return QueryTarget(plain.type_name, plain.resource_name, plain.properties, plain.filterable, {"rules": _rule_target()})

    def _render_policy(self, policy: Mapping[str, Any], select: tuple[str, ...] | None,
                       expand: Mapping[str, tuple[str, ...] | None]) -> dict[str, Any]:
        spec = ROLE_MANAGEMENT_POLICIES
        rendered = project(policy, select, spec.default_properties)
        if "rules" in expand:
            rules_at = f"{spec.path}('{policy['id']}')/rules"
            rendered["rules@odata.context"] = context_url(self.api.base, rules_at, expand["rules"])
            rendered["rules"] = [project(rule, expand["rules"], None) for rule in policy[RULES]]
        return rendered

    def _list_scoped(self, spec: CollectionSpec, request: GraphRequest, target: QueryTarget) -> GraphResponse:
        query = parse_query(request.pairs, target, eventual=request.eventual)
        text = next((v for k, v in request.pairs if k.lower() == "$filter"), "")
        if query.where is None or "scopeid" not in text.lower() or "scopetype" not in text.lower():
            # "This method requires the $filter (eq) query parameter to scope the request to a scopeId and a
            # scopeType" (policyroot-list-rolemanagementpolicies); Graph's wording of the refusal is [UNCONFIRMED].
            raise bad_request("The $filter query parameter must name a scopeId and a scopeType.")
        items = [obj for obj in self.tenant.sorted_objects(spec) if query.where(obj)]
        page, token = paginate(items, query, page_size_for(query, 0, False), rules=self.api._page_rules())
        if spec is ROLE_MANAGEMENT_POLICIES:
            values = [self._render_policy(obj, query.select, query.expand) for obj in page]
        else:
            values = [project(obj, query.select, spec.default_properties) for obj in page]
        entity_set = spec.path + ("(rules())" if "rules" in query.expand else "")
        return self.api._collection(request, entity_set, query, values, token, len(items))

    def list_policies(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        return self._list_scoped(ROLE_MANAGEMENT_POLICIES, request, self._policy_target())

    def list_policy_assignments(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        spec = ROLE_MANAGEMENT_POLICY_ASSIGNMENTS
        return self._list_scoped(spec, request, target_for(spec, with_expand=False))

    def get_policy(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        query = parse_query(request.pairs, self._policy_target(), eventual=request.eventual)
        policy = self.tenant.require(ROLE_MANAGEMENT_POLICIES, params[0])
        return self.api._entity(ROLE_MANAGEMENT_POLICIES.path, query.select,
                                self._render_policy(policy, query.select, query.expand))

    def _rule(self, params: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
        policy = self.tenant.require(ROLE_MANAGEMENT_POLICIES, params[0])
        rule = next((r for r in policy[RULES] if r["id"].lower() == params[1].lower()), None)
        if rule is None:
            raise resource_not_found(params[1])
        return policy, rule

    def list_rules(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        policy = self.tenant.require(ROLE_MANAGEMENT_POLICIES, params[0])
        query = parse_query(request.pairs, _rule_target(), eventual=request.eventual)
        values = [project(rule, query.select, None) for rule in policy[RULES]]
        return self.api._collection(request, f"{ROLE_MANAGEMENT_POLICIES.path}('{policy['id']}')/rules", query,
                                    values, None, len(values))

    def get_rule(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        policy, rule = self._rule(params)
        query = parse_query(request.pairs, _rule_target(), eventual=request.eventual)
        return self.api._entity(f"{ROLE_MANAGEMENT_POLICIES.path}('{policy['id']}')/rules", query.select,
                                project(rule, query.select, None))

    def update_rule(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        policy, rule = self._rule(params)
        # check_write wants the rule's kind in the body, as the update page says Graph does.
        changes, _ = check_write(ROLE_MANAGEMENT_POLICY_RULES, request.json(), rule)
        with self.tenant.lock:
            rule.update(changes)
            # The policy records the change (its lastModifiedDateTime), as the list page's example shows.
            self.tenant.update(ROLE_MANAGEMENT_POLICIES, policy, {})
        return GraphResponse(NO_CONTENT)

    # --- terms of use ----------------------------------------------------------------------------------------

    def _agreement_target(self) -> QueryTarget:
        plain = target_for(TERMS_OF_USE, with_expand=False)
        files = QueryTarget("microsoft.graph.agreementFileLocalization", "AgreementFileLocalization",
                            AGREEMENT_FILE_PROPERTIES)
        return QueryTarget(plain.type_name, plain.resource_name, plain.properties, plain.filterable, {"files": files})

    def _render_agreement(self, agreement: Mapping[str, Any], select: tuple[str, ...] | None,
                          expand: Mapping[str, tuple[str, ...] | None]) -> dict[str, Any]:
        rendered = project(agreement, select, TERMS_OF_USE.default_properties, ("files",))
        if "files" in expand:
            # The bytes are not in the answer: fileData null (agreement-list-files).
            rendered["files"] = [project({**file, "fileData": None}, expand["files"], None) for file in agreement["files"]]
        return rendered

    def list_agreements(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        # That the list takes $expand=files as a single agreement's read does is [UNCONFIRMED].
        query = parse_query(request.pairs, self._agreement_target(), eventual=request.eventual)
        items = [obj for obj in self.tenant.sorted_objects(TERMS_OF_USE) if query.where is None or query.where(obj)]
        page, token = paginate(items, query, page_size_for(query, 0, False), rules=self.api._page_rules())
        values = [self._render_agreement(obj, query.select, query.expand) for obj in page]
        return self.api._collection(request, TERMS_OF_USE.path, query, values, token, len(items))

    def get_agreement(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        query = parse_query(request.pairs, self._agreement_target(), eventual=request.eventual)
        agreement = self.tenant.require(TERMS_OF_USE, params[0])
        return self.api._entity(TERMS_OF_USE.path, query.select, self._render_agreement(agreement, query.select, query.expand))

    # --- access reviews ------------------------------------------------------------------------------------

    def replace_review(self, request: GraphRequest, params: list[str]) -> GraphResponse:
        spec = ACCESS_REVIEW_DEFINITIONS
        review = self.tenant.require(spec, params[0])
        changes, _ = check_write(spec, request.json(spec.codes.bad_request), review)
        # "A PUT request expects the full object": what it leaves out of the updatable properties is cleared.
        for name in REVIEW_UPDATABLE:
            changes.setdefault(name, [] if spec.properties[name] in (OBJS, STRS) else None)
        self.tenant.update(spec, review, changes)
        return GraphResponse(NO_CONTENT)
