package manifest_test

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/lsqupload/lsqupload/manifest"
)

// ExampleNewReader reads a manifest whose second row names a file that
// does not exist: the row comes back rejected, with its line and column,
// and reading goes on.
func ExampleNewReader() {
	text := "File Path,Lead ID,SchemaName,EntitySchemaName\n" +
		"scans/missing.pdf,0f8fad5b-d9cb-469f-a165-70867728950e,mx_CustomObject_2,mx_KYC\n" +
		",,,\n" +
		"scans/other.pdf,not-a-guid,mx_CustomObject_2,mx_KYC\n"

	r, err := manifest.NewReader(strings.NewReader(text), manifest.Options{Dir: "/nonexistent"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if row.Err != nil {
			fmt.Println(row.Err)
			continue
		}
		fmt.Println("line", row.Line, "ok")
	}
	fmt.Println("blank rows:", r.Blank())

	// Output:
	// line 2, column file_path: file not found: scans/missing.pdf
	// line 4, column id: lead id "not-a-guid" is not a GUID (like 0f8fad5b-d9cb-469f-a165-70867728950e)
	// blank rows: 1
}
