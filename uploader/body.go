package uploader

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Request is one file to upload into a Custom Field Set field.
type Request struct {
	// Path is the file on disk; Size is its size when validated. The body
	// announces Size and the attempt fails if the file no longer has it.
	Path string
	Size int64

	// FileName is the name sent with the file part; empty means the base
	// name of Path.
	FileName string

	// Entity is the API's Entity value: 0 lead, 1 activity or opportunity.
	Entity int

	// ID is the lead Id or the activity or opportunity event code.
	ID string

	SchemaName       string
	EntitySchemaName string
	FileType         int
	FileStorageType  int
	StorageVersion   int
}

// ErrFileChanged means the file's size changed between validation and
// upload; sending it could store a half-written document.
var ErrFileChanged = errors.New("file changed while it was being uploaded")

// body is one attempt's request body: the multipart head, the file
// streamed from disk, and the closing boundary, with an exact length.
type body struct {
	io.Reader
	file        *os.File
	length      int64
	contentType string
}

// Close closes the file.
func (b *body) Close() error { return b.file.Close() }

// newBody opens the file afresh, so every attempt sends it whole, and
// frames it with the form fields. No part of the file is held in memory.
func newBody(req Request, creds Credentials) (*body, error) {
	f, err := os.Open(req.Path)
	if err != nil {
		return nil, err // names the path already
	}
	if err := checkSize(f, req.Size); err != nil {
		f.Close()
		return nil, err
	}

	head, tail, ctype, err := frame(req, creds)
	if err != nil {
		f.Close()
		return nil, err
	}

	return &body{
		Reader: io.MultiReader(bytes.NewReader(head),
			&exactReader{r: f, left: req.Size}, bytes.NewReader(tail)),
		file:        f,
		length:      int64(len(head)) + req.Size + int64(len(tail)),
		contentType: ctype,
	}, nil
}

func checkSize(f *os.File, want int64) error {
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", f.Name(), err)
	}
	if info.Size() != want {
		return fmt.Errorf("%w: %d bytes when checked, %d now", ErrFileChanged, want, info.Size())
	}
	return nil
}

// frame renders the multipart bytes before and after the file's content.
func frame(req Request, creds Credentials) (head, tail []byte, ctype string, err error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range formFields(req, creds) {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return nil, nil, "", fmt.Errorf("write form field %s: %w", f[0], err)
		}
	}

	name := req.FileName
	if name == "" {
		name = filepath.Base(req.Path)
	}
	if _, err := mw.CreatePart(filePartHeader(name)); err != nil {
		return nil, nil, "", fmt.Errorf("write file part: %w", err)
	}
	head = bytes.Clone(buf.Bytes())

	buf.Reset()
	if err := mw.Close(); err != nil {
		return nil, nil, "", fmt.Errorf("close form: %w", err)
	}
	return head, bytes.Clone(buf.Bytes()), mw.FormDataContentType(), nil
}

// formFields lists the text parts of a Custom Field Set upload, in the
// order the API's documentation gives them.
func formFields(req Request, creds Credentials) [][2]string {
	return [][2]string{
		{"FileType", strconv.Itoa(req.FileType)},
		{"AccessKey", creds.access},
		{"SecretKey", creds.secret},
		{"FileStorageType", strconv.Itoa(req.FileStorageType)},
		{"EnableResize", "false"},
		{"Id", req.ID},
		{"SchemaName", req.SchemaName},
		{"EntitySchemaName", req.EntitySchemaName},
		{"Entity", strconv.Itoa(req.Entity)},
		{"StorageVersion", strconv.Itoa(req.StorageVersion)},
	}
}

var quoteEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "")

func filePartHeader(name string) textproto.MIMEHeader {
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="uploadFiles"; filename="%s"`,
		quoteEscaper.Replace(name)))
	ctype := mime.TypeByExtension(strings.ToLower(filepath.Ext(name)))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	h.Set("Content-Type", ctype)
	return h
}

// exactReader yields exactly left bytes of r and fails with ErrFileChanged
// when r has fewer or more, so a file that grows or shrinks mid-upload
// never goes out as a short or padded document.
type exactReader struct {
	r    io.Reader
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left == 0 {
		return 0, e.checkEnd()
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}

	n, err := e.r.Read(p)
	e.left -= int64(n)
	if errors.Is(err, io.EOF) {
		if e.left > 0 {
			return n, fmt.Errorf("%w: it ended %d bytes early", ErrFileChanged, e.left)
		}
		return n, nil
	}
	return n, err
}

// checkEnd confirms the file has nothing past the announced size.
func (e *exactReader) checkEnd() error {
	var one [1]byte
	n, err := e.r.Read(one[:])
	if n > 0 {
		return fmt.Errorf("%w: it grew", ErrFileChanged)
	}
	if err == nil || errors.Is(err, io.EOF) {
		return io.EOF
	}
	return err
}
