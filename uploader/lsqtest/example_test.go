package lsqtest_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"

	"github.com/lsqupload/lsqupload/uploader/lsqtest"
)

// ExampleStart uploads one file to a sandbox that admits one call per
// window, then calls again and is throttled.
func ExampleStart() {
	srv, err := lsqtest.Start("", lsqtest.Options{Quota: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	for range 2 {
		status, body, err := upload(srv.URL, "0f8fad5b-d9cb-469f-a165-70867728950e")
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(status, len(body) > 0)
	}

	rec := srv.Received()
	fmt.Println(len(rec), rec[0].FileName, rec[0].Size)
	fmt.Printf("%+v\n", srv.Stats())

	// Output:
	// 200 true
	// 429 true
	// 1 kyc.pdf 11
	// {Requests:2 Accepted:1 Throttled:1 Injected:0 Dropped:0 Refused:0 Unauthorized:0 Abandoned:0}
}

// upload sends a Custom Field Set document for the lead id to url.
func upload(url, id string) (int, []byte, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fields := [][2]string{
		{"FileType", "7"}, {"AccessKey", lsqtest.SandboxAccessKey},
		{"SecretKey", lsqtest.SandboxSecretKey}, {"FileStorageType", "0"},
		{"EnableResize", "false"}, {"Id", id}, {"SchemaName", "mx_CustomObject_2"},
		{"EntitySchemaName", "mx_KYC"}, {"Entity", "0"}, {"StorageVersion", "0"},
	}
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			return 0, nil, err
		}
	}
	part, err := mw.CreateFormFile("uploadFiles", "kyc.pdf")
	if err != nil {
		return 0, nil, err
	}
	if _, err := io.WriteString(part, "%PDF-1.4 hi"); err != nil {
		return 0, nil, err
	}
	if err := mw.Close(); err != nil {
		return 0, nil, err
	}

	resp, err := http.Post(url, mw.FormDataContentType(), &buf)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)

	return resp.StatusCode, body, err
}
