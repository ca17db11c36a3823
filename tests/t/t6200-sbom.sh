#!/bin/bash
# t6200-sbom.sh - kiln manifest sbom on the generated repository: a CycloneDX
# 1.5 document valid against the official schema (checked by the CycloneDX
# project's library, and shown to reject a broken one), an SPDX 2.3 document
# with every field the specification requires, both naming every package as
# a purl with its .deb's SHA-256, and both the same bytes every time.
. "$(dirname "$0")/../lib/test-lib.sh"
mkrepo
S=$T/store
NODE_PATH=${KILN_NODE:-/usr/local/lib/kiln-node}/node_modules
export NODE_PATH
[ -d "$NODE_PATH/@cyclonedx/cyclonedx-library" ] || { echo "Bail out! @cyclonedx/cyclonedx-library is not installed (make deps)"; exit 1; }
expect 0 "a build" -- "$KILN" build app.recipe --store "$S" --version 2026.01.0
V=app/2026.01.0

expect 0 "sbom (CycloneDX, the default)" -- "$KILN" manifest sbom $V --store "$S"
cp out cdx.json
node "$TOP/tests/lib/validate-cyclonedx.js" cdx.json > cdx.check 2>&1 && ok "valid against the CycloneDX 1.5 schema (the project's library)" ||
	not_ok "$(head -c 600 cdx.check)"
python3 -c "
import json; d = json.load(open('cdx.json')); d['components'][0]['hashes'][0]['alg'] = 'SHA-257'; d['serialNumber'] = 'not-a-urn'
json.dump(d, open('cdx-bad.json', 'w'))"
node "$TOP/tests/lib/validate-cyclonedx.js" cdx-bad.json > bad.check 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q '"instancePath": "/serialNumber"' bad.check && ok "the same validator refuses a broken document" || not_ok "broken document: exit $rc"
python3 - "$S/$V/manifest.json" <<'PY' && ok "CycloneDX: the image as root, kernel and packages as purls with their hashes, the artifacts as files" || not_ok "CycloneDX content"
import json, sys, hashlib
m = json.load(open(sys.argv[1]))
d = json.load(open("cdx.json"))
sha = hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest()
root = d["metadata"]["component"]
assert (root["type"], root["name"], root["version"]) == ("operating-system", "app", "2026.01.0"), root
assert root["hashes"] == [{"alg": "SHA-256", "content": sha}], root
c = {x["bom-ref"]: x for x in d["components"]}
for p in m["packages"]:
    ref = "pkg:deb/debian/%s@%s?arch=%s" % (p["name"], p["version"], p["arch"])
    assert c[ref]["purl"] == ref and c[ref]["hashes"] == [{"alg": "SHA-256", "content": p["sha256"]}], c.get(ref)
k = "pkg:deb/debian/%s@%s?arch=amd64" % (m["kernel"]["package"], m["kernel"]["version"])
assert c[k]["type"] == "operating-system", c[k]
for a in m["artifacts"]:
    f = c["urn:kiln:image:app/2026.01.0#" + a["name"]]
    assert f["type"] == "file" and f["hashes"][0]["content"] == a["sha256"], f
(dep,) = d["dependencies"]
assert dep["ref"] == root["bom-ref"] and sorted(dep["dependsOn"]) == sorted(c), dep
PY

expect 0 "sbom --format spdx" -- "$KILN" manifest sbom $V --store "$S" --format spdx
cp out spdx.json
python3 - "$S/$V/manifest.json" <<'PY' && ok "SPDX 2.3: the required fields, valid ids, relationships that resolve, purls and checksums" || not_ok "SPDX content"
import json, re, sys
m = json.load(open(sys.argv[1]))
d = json.load(open("spdx.json"))
for k in ("spdxVersion", "dataLicense", "SPDXID", "name", "documentNamespace", "creationInfo"):
    assert k in d, k
assert (d["spdxVersion"], d["dataLicense"], d["SPDXID"]) == ("SPDX-2.3", "CC0-1.0", "SPDXRef-DOCUMENT"), d
assert re.match(r"^[a-z][a-z0-9+.-]*:", d["documentNamespace"]) and "#" not in d["documentNamespace"]
assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", d["creationInfo"]["created"]) and d["creationInfo"]["creators"][0].startswith("Tool: ")
ids = set()
for p in d["packages"]:
    for k in ("SPDXID", "name", "downloadLocation"):
        assert k in p, (k, p)
    assert re.match(r"^SPDXRef-[A-Za-z0-9.-]+$", p["SPDXID"]) and p["SPDXID"] not in ids, p["SPDXID"]
    ids.add(p["SPDXID"])
    assert p["filesAnalyzed"] is False      # no packageVerificationCode needed
    for c in p["checksums"]:
        assert c["algorithm"] == "SHA256" and re.match(r"^[0-9a-f]{64}$", c["checksumValue"]), c
    assert p["primaryPackagePurpose"] in ("OPERATING-SYSTEM", "LIBRARY", "FILE", "FIRMWARE"), p
for r in d["relationships"]:
    assert r["spdxElementId"] in ids | {"SPDXRef-DOCUMENT"} and r["relatedSpdxElement"] in ids, r
assert {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Image"} in d["relationships"]
purls = {e["referenceLocator"] for p in d["packages"] for e in p.get("externalRefs", []) if e["referenceType"] == "purl"}
for p in m["packages"]:
    assert "pkg:deb/debian/%s@%s?arch=%s" % (p["name"], p["version"], p["arch"]) in purls, p["name"]
PY
"$KILN" manifest sbom $V --store "$S" > again.json && cmp -s again.json cdx.json &&
	"$KILN" manifest sbom $V --store "$S" --format spdx > again.json && cmp -s again.json spdx.json &&
	ok "both are the same bytes every time" || not_ok "an SBOM differs between two runs"
expect 2 "a bad --format" -- "$KILN" manifest sbom $V --store "$S" --format swid
err_has "bad --format 'swid'"
test_done
