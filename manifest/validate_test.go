package manifest_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsqupload/lsqupload/manifest"
)

// cells are a fullHeader row's values; the zero value is a valid lead row
// for kyc.pdf once filled by row.
type cells struct {
	path, entity, id, schema, entitySchema, fileType, storageType, version string
}

// row renders c as a fullHeader line, filling unset required values.
func (c cells) row() string {
	if c.path == "" {
		c.path = "kyc.pdf"
	}
	if c.id == "" {
		c.id = leadID
	}
	if c.schema == "" {
		c.schema = schema
	}
	if c.entitySchema == "" {
		c.entitySchema = entitySchema
	}
	for _, v := range []*string{&c.path, &c.id, &c.schema, &c.entitySchema} {
		if *v == "-" {
			*v = "" // "-" asks for an empty cell
		}
	}
	return strings.Join([]string{c.path, c.entity, c.id, c.schema, c.entitySchema,
		c.fileType, c.storageType, c.version}, ",") + "\n"
}

// typed is what validation fills in for a valid row.
type typed struct {
	entity                 manifest.Entity
	fileType, storage, ver int
	path                   string // relative to the fixture folder
	size                   int64
}

var validLead = typed{entity: manifest.EntityLead, fileType: 7, path: "kyc.pdf", size: 18}

// TestValidate runs every validation rule on one row each, with the
// fixture's files and a MaxFileSize of 50 bytes.
func TestValidate(t *testing.T) {
	activity := func(id string) cells { return cells{entity: "activity", id: id} }
	with := func(v typed, e manifest.Entity) typed { v.entity = e; return v }

	tests := []struct {
		name    string
		cells   cells
		want    typed  // when wantErr is empty
		wantErr string // the row's Err.Error()
	}{
		// entity
		{name: "entity empty means lead", cells: cells{}, want: validLead},
		{name: "entity lead", cells: cells{entity: "lead"}, want: validLead},
		{name: "entity LEAD", cells: cells{entity: "LEAD"}, want: validLead},
		{name: "entity 0", cells: cells{entity: "0"}, want: validLead},
		{name: "entity 1", cells: cells{entity: "1", id: eventCode},
			want: with(validLead, manifest.EntityActivity)},
		{name: "entity Activity", cells: cells{entity: " Activity ", id: eventCode},
			want: with(validLead, manifest.EntityActivity)},
		{name: "entity Opportunity", cells: cells{entity: "Opportunity", id: eventCode},
			want: with(validLead, manifest.EntityOpportunity)},
		{name: "entity 2", cells: cells{entity: "2"},
			wantErr: `line 2, column entity: unknown entity "2": ` +
				`use lead, activity, opportunity, 0 or 1`},
		{name: "entity contact", cells: cells{entity: "contact"},
			wantErr: `line 2, column entity: unknown entity "contact": ` +
				`use lead, activity, opportunity, 0 or 1`},
		{name: "cheap columns before the file", cells: cells{entity: "x", path: "missing.pdf"},
			wantErr: `line 2, column entity: unknown entity "x": ` +
				`use lead, activity, opportunity, 0 or 1`},

		// id
		{name: "id missing", cells: cells{id: "-"},
			wantErr: "line 2, column id: missing value"},
		{name: "lead id upper case", cells: cells{id: strings.ToUpper(leadID)}, want: validLead},
		{name: "lead id event code", cells: cells{id: eventCode},
			wantErr: `line 2, column id: lead id "12005" is not a GUID ` +
				`(like 0f8fad5b-d9cb-469f-a165-70867728950e)`},
		{name: "lead id in braces", cells: cells{id: "{" + leadID + "}"},
			wantErr: `line 2, column id: lead id "{0f8fad5b-d9cb-469f-a165-70867728950e}" ` +
				`is not a GUID (like 0f8fad5b-d9cb-469f-a165-70867728950e)`},
		{name: "lead id one digit short", cells: cells{id: leadID[:35]},
			wantErr: `line 2, column id: lead id "0f8fad5b-d9cb-469f-a165-70867728950" ` +
				`is not a GUID (like 0f8fad5b-d9cb-469f-a165-70867728950e)`},
		{name: "lead id not hex", cells: cells{id: "0f8fad5b-d9cb-469f-a165-70867728950g"},
			wantErr: `line 2, column id: lead id "0f8fad5b-d9cb-469f-a165-70867728950g" ` +
				`is not a GUID (like 0f8fad5b-d9cb-469f-a165-70867728950e)`},
		{name: "activity id", cells: activity("12005"),
			want: with(validLead, manifest.EntityActivity)},
		{name: "activity id with decimals", cells: activity("12005.0"),
			wantErr: `line 2, column id: activity id "12005.0" is not an event code ` +
				`(a whole number like 12005)`},
		{name: "activity id GUID", cells: activity(leadID),
			wantErr: `line 2, column id: activity id "0f8fad5b-d9cb-469f-a165-70867728950e" ` +
				`is not an event code (a whole number like 12005)`},
		{name: "opportunity id negative", cells: cells{entity: "opportunity", id: "-5"},
			wantErr: `line 2, column id: opportunity id "-5" is not an event code ` +
				`(a whole number like 12005)`},
		{name: "activity id exponent", cells: activity("1e5"),
			wantErr: `line 2, column id: activity id "1e5" is not an event code ` +
				`(a whole number like 12005)`},

		// schema names
		{name: "schema name missing", cells: cells{schema: "-"},
			wantErr: "line 2, column schema_name: missing value"},
		{name: "schema name with a space", cells: cells{schema: "mx Custom"},
			wantErr: `line 2, column schema_name: "mx Custom" is not a schema name ` +
				`(letters, digits and _, like mx_CustomObject_2)`},
		{name: "schema name starting with a digit", cells: cells{schema: "2mx"},
			wantErr: `line 2, column schema_name: "2mx" is not a schema name ` +
				`(letters, digits and _, like mx_CustomObject_2)`},
		{name: "schema name starting with _", cells: cells{schema: "_mx1"}, want: validLead},
		{name: "entity schema name missing", cells: cells{entitySchema: "-"},
			wantErr: "line 2, column entity_schema_name: missing value"},
		{name: "entity schema name with a hyphen", cells: cells{entitySchema: "mx-KYC"},
			wantErr: `line 2, column entity_schema_name: "mx-KYC" is not a schema name ` +
				`(letters, digits and _, like mx_CustomObject_2)`},

		// numbers
		{name: "numbers given", cells: cells{fileType: "3", storageType: " 1 ", version: "2"},
			want: typed{fileType: 3, storage: 1, ver: 2, path: "kyc.pdf", size: 18}},
		{name: "numbers zero", cells: cells{fileType: "0", storageType: "0", version: "0"},
			want: typed{path: "kyc.pdf", size: 18}},
		{name: "file_type not a number", cells: cells{fileType: "pdf"},
			wantErr: `line 2, column file_type: "pdf" is not a whole number`},
		{name: "file_storage_type negative", cells: cells{storageType: "-1"},
			wantErr: `line 2, column file_storage_type: "-1" is not a whole number`},
		{name: "storage_version with decimals", cells: cells{version: "1.0"},
			wantErr: `line 2, column storage_version: "1.0" is not a whole number`},

		// file
		{name: "file path missing", cells: cells{path: "-"},
			wantErr: "line 2, column file_path: missing value"},
		{name: "file not found", cells: cells{path: "missing.pdf"},
			wantErr: "line 2, column file_path: file not found: missing.pdf"},
		{name: "file is a directory", cells: cells{path: "folder.pdf"},
			wantErr: "line 2, column file_path: folder.pdf is a directory, not a file"},
		{name: "file empty", cells: cells{path: "empty.pdf"},
			wantErr: "line 2, column file_path: empty.pdf is empty"},
		{name: "file over the limit", cells: cells{path: "big.pdf"},
			wantErr: "line 2, column file_path: big.pdf is 100 bytes, " +
				"over the limit of 50 (--max-file-size)"},
		{name: "extension not allowed", cells: cells{path: "notes.txt"},
			wantErr: `line 2, column file_path: notes.txt: file type "txt" is not allowed ` +
				`(--allowed-ext pdf,jpg,jpeg,png)`},
		{name: "no extension", cells: cells{path: "noext"},
			wantErr: `line 2, column file_path: noext: file type "" is not allowed ` +
				`(--allowed-ext pdf,jpg,jpeg,png)`},
		{name: "extension in capitals", cells: cells{path: "scan.JPG"},
			want: typed{fileType: 7, path: "scan.JPG", size: 13}},
		{name: "path with spaces around", cells: cells{path: "  sub/deep.pdf "},
			want: typed{fileType: 7, path: "sub/deep.pdf", size: 14}},
	}

	dir := fixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := open(t, fullHeader+tt.cells.row(), manifest.Options{Dir: dir, MaxFileSize: 50})
			rows := readAll(t, r)
			if len(rows) != 1 {
				t.Fatalf("got %d rows, want 1", len(rows))
			}
			row := rows[0]
			if tt.wantErr != "" {
				if row.Err == nil {
					t.Fatalf("row accepted, want %s", tt.wantErr)
				}
				if got := row.Err.Error(); got != tt.wantErr {
					t.Errorf("Err:\n got %s\nwant %s", got, tt.wantErr)
				}
				return
			}
			if row.Err != nil {
				t.Fatalf("row rejected: %v", row.Err)
			}
			got := typed{entity: row.Entity, fileType: row.FileType,
				storage: row.FileStorageType, ver: row.StorageVersion, size: row.Size}
			if rel, err := filepath.Rel(dir, row.Path); err == nil {
				got.path = filepath.ToSlash(rel)
			}
			if got != tt.want {
				t.Errorf("row = %+v, want %+v", got, tt.want)
			}
			if row.ModTime.IsZero() {
				t.Error("ModTime not set")
			}
		})
	}
}

// TestValidateLimits checks the file size and extension options.
func TestValidateLimits(t *testing.T) {
	tests := []struct {
		name    string
		opts    manifest.Options
		path    string
		wantErr string
	}{
		{name: "default size limit", path: "big.pdf"},
		{name: "no size limit", opts: manifest.Options{MaxFileSize: -1}, path: "big.pdf"},
		{name: "limit equal to the size", opts: manifest.Options{MaxFileSize: 100},
			path: "big.pdf"},
		{name: "limit one byte short", opts: manifest.Options{MaxFileSize: 99}, path: "big.pdf",
			wantErr: "line 2, column file_path: big.pdf is 100 bytes, " +
				"over the limit of 99 (--max-file-size)"},
		{name: "own extension list", opts: manifest.Options{Extensions: []string{"txt"}},
			path: "notes.txt"},
		{name: "own list drops the defaults", opts: manifest.Options{Extensions: []string{"txt"}},
			path: "kyc.pdf",
			wantErr: `line 2, column file_path: kyc.pdf: file type "pdf" is not allowed ` +
				`(--allowed-ext txt)`},
		{name: "dots, spaces and capitals", opts: manifest.Options{
			Extensions: []string{" .TXT "}}, path: "notes.txt"},
		{name: "listed in the order given", opts: manifest.Options{
			Extensions: []string{"png", "pdf"}}, path: "notes.txt",
			wantErr: `line 2, column file_path: notes.txt: file type "txt" is not allowed ` +
				`(--allowed-ext png,pdf)`},
		{name: "star allows any", opts: manifest.Options{Extensions: []string{"*"}},
			path: "notes.txt"},
		{name: "star allows none", opts: manifest.Options{Extensions: []string{"pdf", "*"}},
			path: "noext"},
		{name: "star keeps other checks", opts: manifest.Options{Extensions: []string{"*"}},
			path:    "empty.pdf",
			wantErr: "line 2, column file_path: empty.pdf is empty"},
	}

	dir := fixture(t)
	writeFile(t, filepath.Join(dir, "big.pdf"), strings.Repeat("x", 100))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Dir = dir
			text := shortHeader + tt.path + "," + leadID + "," + schema + "," + entitySchema
			rows := readAll(t, open(t, text, tt.opts))
			if len(rows) != 1 {
				t.Fatalf("got %d rows, want 1", len(rows))
			}
			var got string
			if rows[0].Err != nil {
				got = rows[0].Err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("Err:\n got %q\nwant %q", got, tt.wantErr)
			}
		})
	}
}

// TestValidateExtensionListStable reads the same rejected row many times:
// its message must not change from one run to the next.
func TestValidateExtensionListStable(t *testing.T) {
	dir := fixture(t)
	opts := manifest.Options{Dir: dir, Extensions: []string{"tif", "gif", "bmp", "pdf"}}
	text := shortHeader + "notes.txt," + leadID + "," + schema + "," + entitySchema + "\n"

	seen := map[string]bool{}
	for range 30 {
		rows := readAll(t, open(t, text, opts))
		if len(rows) != 1 || rows[0].Err == nil {
			t.Fatalf("rows %+v, want one rejected row", outcomes(rows))
		}
		seen[rows[0].Err.Error()] = true
	}
	if len(seen) != 1 {
		t.Errorf("the same row gave %d different messages: %v", len(seen), seen)
	}
}

func TestValidateSpecialFiles(t *testing.T) {
	dir := fixture(t)
	locked := filepath.Join(dir, "locked.pdf")
	writeFile(t, locked, "%PDF-1.4 locked\n")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		path    string
		skip    string
		wantErr string
	}{
		{
			name:    "unreadable",
			path:    "locked.pdf",
			skip:    skipIf(os.Geteuid() == 0, "root reads a file whatever its mode"),
			wantErr: "line 2, column file_path: cannot read locked.pdf: permission denied",
		},
		{
			name:    "device",
			path:    os.DevNull,
			skip:    skipIf(!isDevice(os.DevNull), os.DevNull+" is not a device here"),
			wantErr: "line 2, column file_path: " + os.DevNull + " is not a regular file",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != "" {
				t.Skip(tt.skip)
			}
			text := shortHeader + tt.path + "," + leadID + "," + schema + "," + entitySchema
			rows := readAll(t, open(t, text, manifest.Options{Dir: dir}))
			if len(rows) != 1 || rows[0].Err == nil {
				t.Fatalf("rows %+v, want one rejected row", outcomes(rows))
			}
			if got := rows[0].Err.Error(); got != tt.wantErr {
				t.Errorf("Err:\n got %s\nwant %s", got, tt.wantErr)
			}
		})
	}
}

func skipIf(cond bool, reason string) string {
	if cond {
		return reason
	}
	return ""
}

func isDevice(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode()&os.ModeDevice != 0
}

func TestParseEntity(t *testing.T) {
	tests := []struct {
		in      string
		want    manifest.Entity
		wantErr string
	}{
		{in: "", want: manifest.EntityLead},
		{in: " lead ", want: manifest.EntityLead},
		{in: "Lead", want: manifest.EntityLead},
		{in: "0", want: manifest.EntityLead},
		{in: "activity", want: manifest.EntityActivity},
		{in: "ACTIVITY", want: manifest.EntityActivity},
		{in: "1", want: manifest.EntityActivity},
		{in: "opportunity", want: manifest.EntityOpportunity},
		{in: "Opportunity", want: manifest.EntityOpportunity},
		{in: "2", wantErr: `unknown entity "2": use lead, activity, opportunity, 0 or 1`},
		{in: "leads", wantErr: `unknown entity "leads": use lead, activity, opportunity, 0 or 1`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			got, err := manifest.ParseEntity(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("ParseEntity(%q) error = %v, want %s", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseEntity(%q) = %v, %v; want %v, nil", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestEntity(t *testing.T) {
	tests := []struct {
		e    manifest.Entity
		str  string
		code int
	}{
		{manifest.EntityLead, "lead", 0},
		{manifest.EntityActivity, "activity", 1},
		{manifest.EntityOpportunity, "opportunity", 1},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			if got := tt.e.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := tt.e.Code(); got != tt.code {
				t.Errorf("Code() = %d, want %d", got, tt.code)
			}
			back, err := manifest.ParseEntity(tt.e.String())
			if err != nil || back != tt.e {
				t.Errorf("ParseEntity(String()) = %v, %v; want %v", back, err, tt.e)
			}
		})
	}
}

func TestRowError(t *testing.T) {
	cause := errors.New("missing value")
	tests := []struct {
		name   string
		err    *manifest.RowError
		str    string
		reason string
	}{
		{
			name:   "with column",
			err:    &manifest.RowError{Line: 12, Column: "id", Err: cause},
			str:    "line 12, column id: missing value",
			reason: "column id: missing value",
		},
		{
			name:   "without column",
			err:    &manifest.RowError{Line: 3, Err: cause},
			str:    "line 3: missing value",
			reason: "missing value",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.str {
				t.Errorf("Error() = %q, want %q", got, tt.str)
			}
			if got := tt.err.Reason(); got != tt.reason {
				t.Errorf("Reason() = %q, want %q", got, tt.reason)
			}
			if !errors.Is(tt.err, cause) {
				t.Error("errors.Is(err, cause) = false, want true")
			}
		})
	}
}

// TestRowErrorFromReader checks the line and column the reader puts in a
// rejection, and the Reason a results row shows.
func TestRowErrorFromReader(t *testing.T) {
	dir := fixture(t)
	text := fullHeader +
		cells{path: "missing.pdf"}.row() +
		cells{fileType: "x"}.row() +
		strings.TrimSuffix(cells{}.row(), "\n") + ",,,x\n"

	tests := []struct {
		line   int
		column string
		str    string
		reason string
	}{
		{2, "file_path", "line 2, column file_path: file not found: missing.pdf",
			"column file_path: file not found: missing.pdf"},
		{3, "file_type", `line 3, column file_type: "x" is not a whole number`,
			`column file_type: "x" is not a whole number`},
		{4, "", "line 4: 11 fields but the header names 8: value \"x\" in field 11 " +
			"has no column (an unquoted comma?)",
			"11 fields but the header names 8: value \"x\" in field 11 " +
				"has no column (an unquoted comma?)"},
	}
	rows := readAll(t, open(t, text, manifest.Options{Dir: dir}))
	if len(rows) != len(tests) {
		t.Fatalf("got %d rows, want %d", len(rows), len(tests))
	}
	for i, tt := range tests {
		e := rows[i].Err
		if e == nil {
			t.Errorf("row %d accepted, want %s", i, tt.str)
			continue
		}
		if e.Line != tt.line || e.Column != tt.column || e.Error() != tt.str ||
			e.Reason() != tt.reason {
			t.Errorf("row %d: RowError{%d, %q} %q / %q; want {%d, %q} %q / %q", i,
				e.Line, e.Column, e.Error(), e.Reason(), tt.line, tt.column, tt.str, tt.reason)
		}
	}
}

// TestWindowsSeparators resolves docs\a.pdf, as a manifest made on
// Windows writes it, to docs/a.pdf.
func TestWindowsSeparators(t *testing.T) {
	dir := fixture(t)
	text := shortHeader + `sub\deep.pdf,` + leadID + "," + schema + "," + entitySchema + "\n"
	rows := readAll(t, open(t, text, manifest.Options{Dir: dir}))
	if len(rows) != 1 || rows[0].Err != nil {
		t.Fatalf("rows %+v, want one valid row", outcomes(rows))
	}
	if want := filepath.Join(dir, "sub", "deep.pdf"); rows[0].Path != want {
		t.Errorf("path %q, want %q", rows[0].Path, want)
	}
}
