package lsqtest

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestUploadSuccessStyles(t *testing.T) {
	t.Parallel()

	object := func(srv *Server, stored string) string { return objectBody(srv, stored) }
	array := func(srv *Server, stored string) string { return "[" + objectBody(srv, stored) + "]" }
	upper := func(srv *Server, stored string) string {
		return strings.Replace(objectBody(srv, stored), `"uploadedFile"`, `"UploadedFile"`, 1)
	}

	tests := []struct {
		name  string
		style string
		want  []func(*Server, string) string // one per upload, in order
	}{
		{"default is object", "", []func(*Server, string) string{object, object}},
		{"object", StyleObject, []func(*Server, string) string{object}},
		{"array", StyleArray, []func(*Server, string) string{array}},
		{"upper", StyleUpper, []func(*Server, string) string{upper}},
		{"mixed rotates", StyleMixed,
			[]func(*Server, string) string{object, array, upper, object}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := start(t, Options{SuccessStyle: tt.style})

			for i, want := range tt.want {
				got := post(t, srv.URL, validUpload())
				stored := storedName(t, got.body)
				wantAnswer(t, got, http.StatusOK, "application/json", want(srv, stored))

				if rec := srv.Received(); rec[i].UploadedFile != stored {
					t.Errorf("upload %d: recorded %q, answered %q", i, rec[i].UploadedFile, stored)
				}
			}
		})
	}
}

func TestUploadAccepted(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		upload upload
	}{
		{"lead", validUpload()},
		{"activity", validUpload().with("Entity", "1").with("Id", activityID)},
		{"EnableResize in capitals", validUpload().with("EnableResize", "FALSE")},
		{"upper-case GUID", validUpload().with("Id", strings.ToUpper(leadID))},
		{"file before fields", func() upload {
			u := validUpload()
			u.mode = fileFirst
			return u
		}()},
		{"Windows path as file name", func() upload {
			u := validUpload()
			u.fileName = `C:\scans\report.pdf`
			return u
		}()},
		{"extra fields ignored", validUpload().with("Note", "ignored")},
		{"file under another name ignored", func() upload {
			u := validUpload()
			u.mode = fileExtra
			return u
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := start(t, Options{})

			got := post(t, srv.URL, tt.upload)
			wantSuccess(t, srv, got, upload{fileName: "report.pdf"})
		})
	}
}

func TestUploadMissingField(t *testing.T) {
	t.Parallel()

	type test struct {
		name    string
		upload  upload
		missing string
	}
	var tests []test
	for _, name := range mandatoryFields {
		tests = append(tests,
			test{"without " + name, validUpload().without(name), name},
			test{"empty " + name, validUpload().with(name, ""), name})
	}
	noFile, noName, dots := validUpload(), validUpload(), validUpload()
	noFile.mode, noName.mode, dots.fileName = fileNone, fileNoName, ".."
	tests = append(tests,
		test{"without file part", noFile, "uploadFiles"},
		test{"file part without file name", noName, "uploadFiles"},
		test{"file named ..", dots, "uploadFiles"},
		test{"first missing is named", validUpload().without("Entity").without("Id"), "Id"},
	)

	srv := start(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := post(t, srv.URL, tt.upload)
			want := envelopeBody("MXMandatoryAttributeMissingException",
				fmt.Sprintf("'%s' is mandatory", tt.missing))
			wantAnswer(t, got, http.StatusOK, "application/json", want)
		})
	}

	if n := len(srv.Received()); n != 0 {
		t.Errorf("Received has %d entries, want none", n)
	}
	if got := srv.Stats(); got.Refused != len(tests) || got.Requests != len(tests) {
		t.Errorf("Stats = %+v, want %d requests, all refused", got, len(tests))
	}
}

func TestUploadKeys(t *testing.T) {
	t.Parallel()

	custom := Options{AccessKey: "custom$access", SecretKey: "custom-secret"}
	tests := []struct {
		name   string
		opts   Options
		upload upload
		status int
	}{
		{"wrong access key", Options{}, validUpload().with("AccessKey", wrongKey), 401},
		{"wrong secret key", Options{}, validUpload().with("SecretKey", wrongKey), 401},
		{"keys swapped", Options{},
			validUpload().with("AccessKey", SandboxSecretKey).with("SecretKey", SandboxAccessKey),
			401},
		{"access key in other case", Options{},
			validUpload().with("AccessKey", strings.ToUpper(SandboxAccessKey)), 401},
		{"sandbox keys against custom keys", custom, validUpload(), 401},
		{"custom keys", custom,
			validUpload().with("AccessKey", "custom$access").with("SecretKey", "custom-secret"),
			200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := start(t, tt.opts)

			got := post(t, srv.URL, tt.upload)
			if tt.status == http.StatusOK {
				wantSuccess(t, srv, got, tt.upload)
				return
			}
			want := envelopeBody("MXUnAuthorizedAccessException",
				"Invalid access key or secret key")
			wantAnswer(t, got, tt.status, "application/json", want)
			if s := srv.Stats(); s.Unauthorized != 1 {
				t.Errorf("Stats = %+v, want 1 unauthorized", s)
			}
		})
	}
}

func TestUploadInvalidValue(t *testing.T) {
	t.Parallel()

	activity := validUpload().with("Entity", "1").with("Id", activityID)
	empty := validUpload()
	empty.content = nil
	twice := validUpload()
	twice.mode = fileTwice

	const (
		guid     = "Invalid Id value: a lead Id (Entity 0) must be a GUID"
		positive = "Invalid Id value: an activity or opportunity Id (Entity 1)" +
			" must be a positive integer"
	)
	tests := []struct {
		name    string
		upload  upload
		message string
	}{
		{"Entity 2", validUpload().with("Entity", "2"), "Invalid Entity value"},
		{"Entity lead", validUpload().with("Entity", "lead"), "Invalid Entity value"},
		{"lead with event code", validUpload().with("Id", "206"), guid},
		{"lead with short GUID", validUpload().with("Id", leadID[:35]), guid},
		{"lead with braced GUID", validUpload().with("Id", "{"+leadID+"}"), guid},
		{"activity with GUID", activity.with("Id", leadID), positive},
		{"activity with zero", activity.with("Id", "0"), positive},
		{"activity with sign", activity.with("Id", "+206"), positive},
		{"activity negative", activity.with("Id", "-206"), positive},
		{"EnableResize true", validUpload().with("EnableResize", "true"),
			"Invalid EnableResize value: it must be false"},
		{"FileType word", validUpload().with("FileType", "pdf"),
			"Invalid FileType value: it must be a non-negative integer"},
		{"FileType negative", validUpload().with("FileType", "-1"),
			"Invalid FileType value: it must be a non-negative integer"},
		{"FileStorageType decimal", validUpload().with("FileStorageType", "1.0"),
			"Invalid FileStorageType value: it must be a non-negative integer"},
		{"StorageVersion spaced", validUpload().with("StorageVersion", " 0"),
			"Invalid StorageVersion value: it must be a non-negative integer"},
		{"empty file", empty, "Invalid uploadFiles value: the file is empty"},
		{"two files", twice, "Only one file may be uploaded per request"},
		{"field too long", validUpload().with("SchemaName", strings.Repeat("x", maxFieldSize+1)),
			"Field 'SchemaName' is too long"},
	}

	srv := start(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := post(t, srv.URL, tt.upload)
			want := envelopeBody("MXInvalidInputException", tt.message)
			wantAnswer(t, got, http.StatusBadRequest, "application/json", want)
		})
	}

	if n := len(srv.Received()); n != 0 {
		t.Errorf("Received has %d entries, want none", n)
	}
}

func TestUploadMaxFileSize(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		limit int64
		size  int
		ok    bool
	}{
		{"at the limit", 10, 10, true},
		{"one over", 10, 11, false},
		{"far over", 10, 1 << 20, false},
		{"no limit", 0, 1 << 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := start(t, Options{MaxFileSize: tt.limit})
			u := validUpload()
			u.content = bytes.Repeat([]byte("a"), tt.size)

			got := post(t, srv.URL, u)
			if tt.ok {
				wantSuccess(t, srv, got, u)
				return
			}
			want := envelopeBody("MXFileSizeExceededException",
				fmt.Sprintf("File size exceeds the limit of %d bytes", tt.limit))
			wantAnswer(t, got, http.StatusBadRequest, "application/json", want)
		})
	}
}

func TestUploadMalformedBody(t *testing.T) {
	t.Parallel()
	srv := start(t, Options{})

	body, contentType := validUpload().body(t)
	notMultipart := envelopeBody("MXInvalidInputException", "Request is not multipart/form-data")
	malformed := envelopeBody("MXInvalidInputException", "Request body is truncated or malformed")

	tests := []struct {
		name        string
		contentType string
		body        []byte
		want        string
	}{
		{"JSON body", "application/json", []byte(`{"Id":"1"}`), notMultipart},
		{"no Content-Type", "", body, notMultipart},
		{"multipart/mixed", strings.Replace(contentType, "form-data", "mixed", 1), body,
			notMultipart},
		{"no boundary", "multipart/form-data", body, notMultipart},
		{"truncated", contentType, body[:len(body)/2], malformed},
		{"no closing boundary", contentType, body[:len(body)-4], malformed},
		{"empty body", contentType, nil, malformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sendRaw(t, srv.URL, tt.contentType, tt.body)
			if err != nil {
				t.Fatalf("post: %v", err)
			}
			wantAnswer(t, got, http.StatusBadRequest, "application/json", tt.want)
		})
	}
}

// TestUploadContentLengthMismatch sends bodies that net/http would not
// send: shorter or longer than the Content-Length they announce.
func TestUploadContentLengthMismatch(t *testing.T) {
	t.Parallel()
	srv := start(t, Options{})
	body, contentType := validUpload().body(t)
	malformed := envelopeBody("MXInvalidInputException", "Request body is truncated or malformed")

	tests := []struct {
		name     string
		declared int
	}{
		{"body shorter than announced", len(body) + 100},
		{"body longer than announced", len(body) - 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			request := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n"+
				"Content-Length: %d\r\nConnection: close\r\n\r\n%s",
				UploadPath, srv.Addr(), contentType, tt.declared, body)

			got := rawExchange(t, srv.Addr(), request)
			wantAnswer(t, got, http.StatusBadRequest, "application/json", malformed)
		})
	}
}

func TestUploadPath(t *testing.T) {
	t.Parallel()
	srv := start(t, Options{})
	base := baseURL(srv)
	body, contentType := validUpload().body(t)
	client := newClient(t, 0)

	tests := []struct {
		name   string
		method string
		path   string
		status int
	}{
		{"upload", http.MethodPost, "/File/Upload", 200},
		{"lower case", http.MethodPost, "/file/upload", 200},
		{"upper case", http.MethodPost, "/FILE/UPLOAD", 200},
		{"GET upload", http.MethodGet, "/File/Upload", 404},
		{"PUT upload", http.MethodPut, "/File/Upload", 404},
		{"other path", http.MethodPost, "/File/Uploads", 404},
		{"root", http.MethodGet, "/", 404},
		{"POST stats", http.MethodPost, StatsPath, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := do(t, client, tt.method, base+tt.path, contentType, body)
			if err != nil {
				t.Fatalf("%s %s: %v", tt.method, tt.path, err)
			}
			if got.status != tt.status {
				t.Errorf("status = %d, want %d", got.status, tt.status)
			}
			if tt.status == http.StatusNotFound && got.body != "" {
				t.Errorf("404 body = %q, want empty", got.body)
			}
		})
	}

	want := Stats{Requests: 5, Accepted: 3, Refused: 2}
	if got := srv.Stats(); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
}
