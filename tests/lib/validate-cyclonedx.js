// validate-cyclonedx.js FILE - a CycloneDX 1.5 JSON document against the
// specification's official JSON schema, through the CycloneDX project's own
// library (@cyclonedx/cyclonedx-library; make deps installs it, NODE_PATH
// finds it). Exit 0 valid, 1 invalid (the errors on stdout), 2 cannot validate.
const fs = require('fs');
const CDX = require('@cyclonedx/cyclonedx-library');

const validator = new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot5);
validator.validate(fs.readFileSync(process.argv[2], 'utf8')).then((errors) => {
	if (errors === null) {
		console.log('valid CycloneDX 1.5');
		process.exit(0);
	}
	console.log(JSON.stringify(errors, null, 2));
	process.exit(1);
}).catch((e) => {
	console.log('cannot validate: ' + e);
	process.exit(2);
});
