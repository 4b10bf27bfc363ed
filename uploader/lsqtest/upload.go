package lsqtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"
)

// fileField is the name of the form part that carries the file.
const fileField = "uploadFiles"

// mandatoryFields are the text fields every upload needs, in the order
// their absence is reported.
var mandatoryFields = []string{
	"FileType", "AccessKey", "SecretKey", "FileStorageType", "EnableResize",
	"Id", "SchemaName", "EntitySchemaName", "Entity", "StorageVersion",
}

const (
	// maxFieldSize bounds a text field, so a huge field cannot fill the
	// memory the streaming file read saves.
	maxFieldSize = 64 << 10

	// dropPrefix is how much of the file a drop reads first, so the
	// client is cut off mid-body rather than before sending anything.
	dropPrefix = 4 << 10
)

var (
	// errNotMultipart means the body cannot be read as multipart/form-data.
	errNotMultipart = errors.New("request is not multipart/form-data")

	// errTruncated means the body ended before the closing boundary.
	errTruncated = errors.New("multipart body has no closing boundary")

	// errDropping stops reading the form because the connection is about
	// to be dropped.
	errDropping = errors.New("dropping the connection")
)

// form is what the fake keeps of a multipart body: the known text fields
// and a digest of the file, never the file itself.
type form struct {
	fields   map[string]string
	hasFile  bool
	fileName string
	size     int64
	sum      hash.Hash

	// problem is the first fault found in a part that did not stop the
	// reading, such as a second file.
	problem *apiError
}

// exchange is one upload request on its way to an answer.
type exchange struct {
	h       *Handler
	w       http.ResponseWriter
	r       *http.Request
	form    form
	plan    plan
	planned bool
}

// serveUpload answers a request to the upload path, taking the checks in
// the order the real service is believed to take them.
func (h *Handler) serveUpload(w http.ResponseWriter, r *http.Request) {
	h.countRequest()
	if r.Method != http.MethodPost {
		drainBody(r)
		h.record(outRefused)
		w.WriteHeader(http.StatusNotFound)
		return
	}

	if !h.admit(time.Now()) {
		drainBody(r)
		h.throttle(w)
		return
	}

	x := &exchange{h: h, w: w, r: r, form: form{fields: make(map[string]string)}}
	x.serve()
}

// serve reads the body, then lets the script, the injected faults, the
// latency and the request checks speak, in that order.
func (x *exchange) serve() {
	readErr := x.read()
	x.decideOnce()
	if x.plan.drop {
		x.drop()
		return
	}

	drainBody(x.r)
	if x.plan.scripted != "" {
		x.answerScripted()
		return
	}
	if x.plan.fail != 0 {
		x.answerFailure()
		return
	}

	if !sleep(x.r.Context(), x.h.opts.Latency) {
		x.h.record(outAbandoned)
		return
	}

	if refusal := x.check(readErr); refusal != nil {
		x.refuse(refusal)
		return
	}
	x.succeed()
}

// decideOnce asks the handler for a plan the first time it is called, so
// a script use or a dice roll is spent once per request.
func (x *exchange) decideOnce() {
	if x.planned {
		return
	}

	x.plan = x.h.decide(x.form.fields["Id"])
	x.planned = true
}

// read streams the multipart body part by part, then makes sure the body
// really ended with the closing boundary: the multipart reader also
// reports a plain EOF when the body stops inside a part's headers.
func (x *exchange) read() error {
	boundary, ok := formBoundary(x.r.Header.Get("Content-Type"))
	if !ok {
		return errNotMultipart
	}

	body := &tailReader{r: x.r.Body, keep: len(boundary) + 64}
	if err := x.readParts(multipart.NewReader(body, boundary)); err != nil {
		return err
	}

	// A length mismatch shows here, as an unexpected EOF.
	if err := discard(body); err != nil {
		return err
	}
	if !body.endsWith("--" + boundary + "--") {
		return errTruncated
	}

	return nil
}

// formBoundary returns the boundary of a multipart/form-data content
// type; any other type, multipart/mixed included, is not an upload.
func formBoundary(contentType string) (string, bool) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return "", false
	}

	return params["boundary"], true
}

// readParts reads every part up to the closing boundary.
func (x *exchange) readParts(mr *multipart.Reader) error {
	for {
		part, err := mr.NextPart()
		// Only a bare io.EOF may be the closing boundary: multipart wraps
		// the EOF of a body cut short inside a part.
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("next part: %w", err)
		}

		err = x.readPart(part)
		_ = part.Close() // a read error was already returned by readPart
		if err != nil {
			return err
		}
	}
}

// readPart files one part under the file, a known field, or nothing.
func (x *exchange) readPart(part *multipart.Part) error {
	name := part.FormName()
	base := baseName(part.FileName())

	switch {
	case name == fileField && base != "":
		return x.readFile(part, base)
	case base != "":
		return discard(part) // a file under another name is no upload
	default:
		return x.readField(name, part)
	}
}

// readFile hashes and counts the file as it streams by. When the Id came
// first, as real clients send it, the plan is made here so that a drop
// cuts the file off part-way.
func (x *exchange) readFile(part *multipart.Part, base string) error {
	if x.form.hasFile {
		x.noteProblem(invalidInput("Only one file may be uploaded per request"))
		return discard(part)
	}
	x.form.hasFile = true
	x.form.fileName = base
	x.form.sum = sha256.New()

	if x.form.fields["Id"] != "" {
		x.decideOnce()
	}
	if x.plan.drop {
		n, _ := io.CopyN(x.form.sum, part, dropPrefix) // about to hang up anyway
		x.form.size = n
		return errDropping
	}

	n, err := io.Copy(x.form.sum, part)
	x.form.size = n
	if err != nil {
		return fmt.Errorf("read file part: %w", err)
	}

	return nil
}

// readField keeps the first value of a mandatory field and skips the rest.
func (x *exchange) readField(name string, part *multipart.Part) error {
	if !isMandatory(name) {
		return discard(part)
	}

	value, err := io.ReadAll(io.LimitReader(part, maxFieldSize+1))
	if err != nil {
		return fmt.Errorf("read field %s: %w", name, err)
	}
	if len(value) > maxFieldSize {
		x.noteProblem(invalidInput(fmt.Sprintf("Field '%s' is too long", name)))
		return discard(part)
	}

	if _, seen := x.form.fields[name]; !seen {
		x.form.fields[name] = string(value)
	}

	return nil
}

func (x *exchange) noteProblem(e *apiError) {
	if x.form.problem == nil {
		x.form.problem = e
	}
}

func isMandatory(name string) bool {
	for _, m := range mandatoryFields {
		if m == name {
			return true
		}
	}

	return false
}

// baseName keeps the last element of a client's file name, whichever
// separator its system used; names that are no file name become "".
func baseName(name string) string {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	if name == "." || name == ".." {
		return ""
	}

	return name
}

func discard(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("skip part: %w", err)
	}

	return nil
}

// tailReader passes reads through and keeps the last bytes read, so the
// end of a body can be checked without keeping the body.
type tailReader struct {
	r    io.Reader
	keep int
	tail []byte
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)

	t.tail = append(t.tail, p[:n]...)
	if extra := len(t.tail) - t.keep; extra > 0 {
		t.tail = t.tail[:copy(t.tail, t.tail[extra:])]
	}

	return n, err
}

// endsWith reports whether the bytes read end with suffix, followed at
// most by white space and line breaks.
func (t *tailReader) endsWith(suffix string) bool {
	return bytes.HasSuffix(bytes.TrimRight(t.tail, " \t\r\n"), []byte(suffix))
}

// drainBody reads what is left of the body, so the client sees the answer
// instead of a reset connection. A read error leaves nothing to drain.
func drainBody(r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
}

// sleep waits d unless ctx ends first, and reports whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}

	t := time.NewTimer(d)
	defer t.Stop()

	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// drop closes the connection with no answer. A writer that cannot be
// hijacked (HTTP/2, a recorder) gets an empty 503 instead, the nearest
// thing it can carry.
func (x *exchange) drop() {
	x.h.record(outDropped)

	conn, _, err := http.NewResponseController(x.w).Hijack()
	if err != nil {
		x.w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	_ = conn.Close() // the point is to hang up; nothing is left to report to
}

// received describes the upload for Received, under the stored name.
func (f *form) received(stored string) Received {
	rec := Received{
		ID:               f.fields["Id"],
		Entity:           f.fields["Entity"],
		SchemaName:       f.fields["SchemaName"],
		EntitySchemaName: f.fields["EntitySchemaName"],
		FileName:         f.fileName,
		Size:             f.size,
		FileType:         f.fields["FileType"],
		FileStorageType:  f.fields["FileStorageType"],
		StorageVersion:   f.fields["StorageVersion"],
		EnableResize:     f.fields["EnableResize"],
		UploadedFile:     stored,
	}
	if f.sum != nil {
		rec.SHA256 = hex.EncodeToString(f.sum.Sum(nil))
	}

	return rec
}
