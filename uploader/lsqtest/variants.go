package lsqtest

// Content types of the answers.
const (
	typeJSON = "application/json"
	typeHTML = "text/html; charset=utf-8"
	typeText = "text/plain; charset=utf-8"
)

// outcome is the Stats counter an answer lands in.
type outcome int

const (
	outAccepted outcome = iota
	outThrottled
	outInjected
	outDropped
	outRefused
	outUnauthorized
	outAbandoned
)

// variant is one canned answer, with the status and body of its case in
// api-responses.json.
type variant struct {
	name        string
	status      int
	contentType string
	body        string
	outcome     outcome

	// stored is the uploadedFile of a success body, recorded in Received.
	stored string
}

// dropVariant closes the connection instead of answering.
const dropVariant = "drop"

// variants lists the canned answers in the order of api-responses.json.
var variants = []variant{
	{"success", 200, typeJSON,
		`{"Status":"Success","uploadedFile":"a1b2c3d4e5f6_aadhaar-front.jpg",` +
			`"relativeFilePath":"https://f.example/a1b2c3d4e5f6_aadhaar-front.jpg",` +
			`"s3FilePath":"https://s3.example/a1b2c3d4e5f6_aadhaar-front.jpg",` +
			`"description":null}`,
		outAccepted, "a1b2c3d4e5f6_aadhaar-front.jpg"},
	{"success-array", 200, typeJSON,
		`[{"Status":"Success","uploadedFile":"f00d_pan.pdf"}]`,
		outAccepted, "f00d_pan.pdf"},
	{"success-upper", 200, typeJSON,
		`{"Status":"Success","UploadedFile":"beef_passport.pdf"}`,
		outAccepted, "beef_passport.pdf"},
	{"error-200", 200, typeJSON,
		`{"Status":"Error","ExceptionType":"MXMandatoryAttributeMissingException",` +
			`"ExceptionMessage":"'Id' is mandatory"}`,
		outRefused, ""},
	{"bad-request", 400, typeJSON,
		`{"Status":"Error","ExceptionType":"MXInvalidInputException",` +
			`"ExceptionMessage":"Invalid Entity value"}`,
		outRefused, ""},
	{"keys-refused", 401, typeJSON,
		`{"Status":"Error","ExceptionType":"MXUnAuthorizedAccessException",` +
			`"ExceptionMessage":"Invalid access key or secret key"}`,
		outUnauthorized, ""},
	{"wrong-host", 401, typeJSON,
		`{"Status":"Error","ExceptionType":"MXUnAuthorizedAccessException",` +
			`"ExceptionMessage":"Your account is hosted on https://api-in21.leadsquared.com;` +
			` use that host"}`,
		outUnauthorized, ""},
	{"unknown-api", 404, "", "", outRefused, ""},
	{"throttle-429", 429, typeJSON,
		`{"Status":"Error","ExceptionType":"MXAPIRateLimitExceededException",` +
			`"ExceptionMessage":"API calls exceeded the limit of 25 in 5 second(s)"}`,
		outThrottled, ""},
	{"throttle-200", 200, typeJSON,
		`{"Status":"Error","ExceptionType":"MXAPIRateLimitExceededException",` +
			`"ExceptionMessage":"API calls exceeded the limit of 20 in 5 second(s)"}`,
		outThrottled, ""},
	{"throttle-403", 403, typeJSON,
		`{"Status":"Error",` +
			`"ExceptionMessage":"API calls exceeded the limit of 10 in 5 second(s)"}`,
		outThrottled, ""},
	{"throttle-text", 429, typeText,
		`API calls exceeded the limit of 5 in 5 second(s)`,
		outThrottled, ""},
	{"server-error", 500, typeJSON, serverErrorBody, outInjected, ""},
	{"bad-gateway", 502, typeHTML, `<html><body>Bad Gateway</body></html>`, outInjected, ""},
	{"unavailable", 503, "", "", outInjected, ""},
	{"maintenance-200", 200, typeHTML,
		`<html><body>Maintenance</body></html>`, outInjected, ""},
	{"empty-200", 200, "", "", outInjected, ""},
	{dropVariant, 0, "", "", outDropped, ""},
}

// serverErrorBody is the 500 envelope, shared by the scripted variant and
// FailRate.
const serverErrorBody = `{"Status":"Error","ExceptionType":"MXUnknownException",` +
	`"ExceptionMessage":"An unexpected error occurred"}`

// Variants returns the names Scripted.Variant accepts, in a fixed order.
func Variants() []string {
	names := make([]string, len(variants))
	for i, v := range variants {
		names[i] = v.name
	}

	return names
}

func variantByName(name string) (variant, bool) {
	for _, v := range variants {
		if v.name == name {
			return v, true
		}
	}

	return variant{}, false
}
