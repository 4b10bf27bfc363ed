package lsqtest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Ids used by the tests.
const (
	leadID     = "0f8fad5b-d9cb-469f-a165-70867728950e"
	activityID = "12005"
)

// wrongKey is a key no server accepts; answers must never echo it.
const wrongKey = "wrong$key-never-echoed"

// fileMode says how a test upload carries its file.
type fileMode int

const (
	fileNormal fileMode = iota // the uploadFiles part with a file name
	fileNone                   // no uploadFiles part at all
	fileNoName                 // an uploadFiles part without a file name
	fileTwice                  // two uploadFiles parts
	fileFirst                  // the file before the text fields
	fileExtra                  // the file, then another under another name
)

type field struct{ name, value string }

// upload describes one multipart request of a test.
type upload struct {
	fields   []field
	fileName string
	content  []byte
	mode     fileMode
}

// validUpload is an upload the default server accepts.
func validUpload() upload {
	return upload{
		fields: []field{
			{"FileType", "7"},
			{"AccessKey", SandboxAccessKey},
			{"SecretKey", SandboxSecretKey},
			{"FileStorageType", "0"},
			{"EnableResize", "false"},
			{"Id", leadID},
			{"SchemaName", "mx_CustomObject_2"},
			{"EntitySchemaName", "mx_KYC"},
			{"Entity", "0"},
			{"StorageVersion", "0"},
		},
		fileName: "report.pdf",
		content:  []byte("%PDF-1.4 sandbox test file\n"),
	}
}

// with returns a copy of u whose field name holds value.
func (u upload) with(name, value string) upload {
	u.fields = slices.Clone(u.fields)
	for i := range u.fields {
		if u.fields[i].name == name {
			u.fields[i].value = value
			return u
		}
	}
	u.fields = append(u.fields, field{name, value})

	return u
}

// without returns a copy of u without the field name.
func (u upload) without(name string) upload {
	u.fields = slices.DeleteFunc(slices.Clone(u.fields), func(f field) bool {
		return f.name == name
	})

	return u
}

// body encodes u as multipart/form-data.
func (u upload) body(t *testing.T) ([]byte, string) {
	t.Helper()

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if u.mode == fileFirst {
		writeFile(t, mw, u)
	}
	for _, f := range u.fields {
		if err := mw.WriteField(f.name, f.value); err != nil {
			t.Fatalf("write field %s: %v", f.name, err)
		}
	}
	if u.mode != fileFirst {
		writeFile(t, mw, u)
	}
	if err := mw.Close(); err != nil {
		t.Fatalf("close multipart writer: %v", err)
	}

	return buf.Bytes(), mw.FormDataContentType()
}

// writeFile writes u's file part the way u.mode asks.
func writeFile(t *testing.T, mw *multipart.Writer, u upload) {
	t.Helper()

	var err error
	switch u.mode {
	case fileNormal, fileFirst:
		err = createFile(mw, fileField, u.fileName, u.content)
	case fileExtra:
		err = createFile(mw, fileField, u.fileName, u.content)
		if err == nil {
			err = createFile(mw, "attachment", "other.pdf", []byte("other"))
		}
	case fileNoName:
		err = mw.WriteField(fileField, string(u.content))
	case fileTwice:
		err = createFile(mw, fileField, u.fileName, u.content)
		if err == nil {
			err = createFile(mw, fileField, "second-"+u.fileName, u.content)
		}
	}
	if err != nil {
		t.Fatalf("write file part: %v", err)
	}
}

func createFile(mw *multipart.Writer, field, name string, content []byte) error {
	w, err := mw.CreateFormFile(field, name)
	if err != nil {
		return err
	}
	_, err = w.Write(content)

	return err
}

// answer is what a test saw of a response.
type answer struct {
	status int
	header http.Header
	body   string
}

// start serves opts on 127.0.0.1 until the test ends.
func start(t *testing.T, opts Options) *Server {
	t.Helper()

	srv, err := Start("", opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})

	return srv
}

// newClient returns a client that opens a connection per request, so a
// dropped connection never spoils the next request.
func newClient(t *testing.T, timeout time.Duration) *http.Client {
	t.Helper()

	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)

	return &http.Client{Transport: tr, Timeout: timeout}
}

// send posts u to url and returns the answer or the transport's error.
func send(t *testing.T, url string, u upload) (answer, error) {
	t.Helper()

	body, contentType := u.body(t)

	return sendRaw(t, url, contentType, body)
}

// sendRaw posts body with contentType to url.
func sendRaw(t *testing.T, url, contentType string, body []byte) (answer, error) {
	t.Helper()

	return do(t, newClient(t, 5*time.Second), http.MethodPost, url, contentType, body)
}

// do sends one request with client and reads the whole answer. It fails
// the test when an answer echoes a key.
func do(t *testing.T, client *http.Client, method, url, contentType string,
	body []byte) (answer, error) {
	t.Helper()

	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}

	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()

	got, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, fmt.Errorf("read body: %w", err)
	}
	noKeys(t, resp.Header, string(got))

	return answer{resp.StatusCode, resp.Header, string(got)}, nil
}

// noKeys fails the test if an answer carries any key the tests use.
func noKeys(t *testing.T, header http.Header, body string) {
	t.Helper()

	for _, key := range []string{SandboxAccessKey, SandboxSecretKey, wrongKey} {
		if strings.Contains(body, key) || strings.Contains(fmt.Sprint(header), key) {
			t.Errorf("answer echoes a key: %q", body)
		}
	}
}

// post sends u and fails the test on a transport error.
func post(t *testing.T, url string, u upload) answer {
	t.Helper()

	a, err := send(t, url, u)
	if err != nil {
		t.Fatalf("post: %v", err)
	}

	return a
}

// get fetches url.
func get(t *testing.T, url string) answer {
	t.Helper()

	a, err := do(t, newClient(t, 5*time.Second), http.MethodGet, url, "", nil)
	if err != nil {
		t.Fatalf("get %s: %v", url, err)
	}

	return a
}

// rawExchange writes request to addr over plain TCP, closes the writing
// half and reads one response, for bodies net/http refuses to send.
func rawExchange(t *testing.T, addr, request string) answer {
	t.Helper()

	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))

	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatalf("write request: %v", err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatalf("close write: %v", err)
	}

	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response body: %v", err)
	}

	return answer{resp.StatusCode, resp.Header, string(body)}
}

// envelopeBody is the exact error body the fake writes.
func envelopeBody(exType, message string) string {
	return `{"Status":"Error","ExceptionType":"` + exType +
		`","ExceptionMessage":"` + message + `"}`
}

// storedPattern finds the stored name in a success body of any style.
var storedPattern = regexp.MustCompile(`"(?:uploadedFile|UploadedFile)":"([^"]*)"`)

// storedName returns the stored name of a success body.
func storedName(t *testing.T, body string) string {
	t.Helper()

	m := storedPattern.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no stored name in %q", body)
	}

	return m[1]
}

// wantAnswer compares an answer's status, body and Content-Type exactly.
func wantAnswer(t *testing.T, got answer, status int, contentType, body string) {
	t.Helper()

	if got.status != status {
		t.Errorf("status = %d, want %d (body %q)", got.status, status, got.body)
	}
	if ct := got.header.Get("Content-Type"); ct != contentType {
		t.Errorf("Content-Type = %q, want %q", ct, contentType)
	}
	if got.body != body {
		t.Errorf("body =\n%s\nwant\n%s", got.body, body)
	}
}

// wantSuccess checks an object-style success answer for u on srv.
func wantSuccess(t *testing.T, srv *Server, got answer, u upload) {
	t.Helper()

	if got.status != http.StatusOK {
		t.Fatalf("status = %d, want 200 (body %q)", got.status, got.body)
	}
	stored := storedName(t, got.body)
	wantAnswer(t, got, http.StatusOK, "application/json", objectBody(srv, stored))

	if !regexp.MustCompile(`^[0-9a-f]{12}_`).MatchString(stored) ||
		!strings.HasSuffix(stored, "_"+u.fileName) {
		t.Errorf("stored name %q is not <12 hex>_%s", stored, u.fileName)
	}
}

// objectBody is the object-style success body for stored on srv.
func objectBody(srv *Server, stored string) string {
	host := srv.Addr()

	return `{"Status":"Success","uploadedFile":"` + stored +
		`","relativeFilePath":"http://` + host + `/files/` + stored +
		`","s3FilePath":"http://` + host + `/s3/` + stored + `","description":null}`
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// baseURL is the server's root, for the inspection endpoints.
func baseURL(srv *Server) string {
	return strings.TrimSuffix(srv.URL, UploadPath)
}
