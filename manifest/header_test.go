package manifest_test

import (
	"encoding/csv"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lsqupload/lsqupload/manifest"
)

// resultColumns are the columns report adds to a results or failures CSV;
// spelled out here so the manifest tests do not depend on report.
var resultColumns = []string{"line", "status", "attempts", "http_status", "error_type",
	"error", "uploaded_file", "bytes", "duration_ms", "finished_at", "file_mtime"}

func TestParseHeaderAliases(t *testing.T) {
	tests := []struct {
		name  string
		raw   []string
		own   []string
		index map[string]int // canonical columns present; the rest must be -1
	}{
		{
			name: "canonical",
			raw: rec("file_path", "entity", "id", "schema_name", "entity_schema_name",
				"file_type", "file_storage_type", "storage_version"),
			own: rec("file_path", "entity", "id", "schema_name", "entity_schema_name",
				"file_type", "file_storage_type", "storage_version"),
			index: map[string]int{
				manifest.ColFilePath: 0, manifest.ColEntity: 1, manifest.ColID: 2,
				manifest.ColSchemaName: 3, manifest.ColEntitySchemaName: 4,
				manifest.ColFileType: 5, manifest.ColFileStorageType: 6,
				manifest.ColStorageVersion: 7,
			},
		},
		{
			name: "camel case",
			raw:  rec("FilePath", "Id", "SchemaName", "EntitySchemaName", "FileType"),
			own:  rec("FilePath", "Id", "SchemaName", "EntitySchemaName", "FileType"),
			index: map[string]int{
				manifest.ColFilePath: 0, manifest.ColID: 1, manifest.ColSchemaName: 2,
				manifest.ColEntitySchemaName: 3, manifest.ColFileType: 4,
			},
		},
		{
			name: "spaces and case",
			raw:  rec(" File Path ", " LEAD_ID", "Schema Name ", "entity schema name"),
			own:  rec("File Path", "LEAD_ID", "Schema Name", "entity schema name"),
			index: map[string]int{
				manifest.ColFilePath: 0, manifest.ColID: 1, manifest.ColSchemaName: 2,
				manifest.ColEntitySchemaName: 3,
			},
		},
		{
			name: "lead_id and hyphens",
			raw:  rec("lead_id", "path", "schema-name", "Entity-Schema-Name", "Storage-Version"),
			own:  rec("lead_id", "path", "schema-name", "Entity-Schema-Name", "Storage-Version"),
			index: map[string]int{
				manifest.ColID: 0, manifest.ColFilePath: 1, manifest.ColSchemaName: 2,
				manifest.ColEntitySchemaName: 3, manifest.ColStorageVersion: 4,
			},
		},
		{
			name: "file and prospect id",
			raw: rec("File", "ProspectID", "SCHEMANAME", "entity_schema_name",
				"File Storage Type"),
			own: rec("File", "ProspectID", "SCHEMANAME", "entity_schema_name",
				"File Storage Type"),
			index: map[string]int{
				manifest.ColFilePath: 0, manifest.ColID: 1, manifest.ColSchemaName: 2,
				manifest.ColEntitySchemaName: 3, manifest.ColFileStorageType: 4,
			},
		},
		{
			name: "extra columns kept in place",
			raw: rec("student_name", "file_path", "notes", "id", "schema_name",
				"entity_schema_name", "Entity"),
			own: rec("student_name", "file_path", "notes", "id", "schema_name",
				"entity_schema_name", "Entity"),
			index: map[string]int{
				manifest.ColFilePath: 1, manifest.ColID: 3, manifest.ColSchemaName: 4,
				manifest.ColEntitySchemaName: 5, manifest.ColEntity: 6,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := manifest.ParseHeader(tt.raw, nil)
			if err != nil {
				t.Fatalf("ParseHeader: %v", err)
			}
			if !slices.Equal(h.Own, tt.own) {
				t.Errorf("Own = %q, want %q", h.Own, tt.own)
			}
			for _, col := range manifest.Columns {
				want, ok := tt.index[col]
				if !ok {
					want = -1
				}
				if got := h.Index(col); got != want {
					t.Errorf("Index(%s) = %d, want %d", col, got, want)
				}
			}
		})
	}
}

func TestParseHeaderDrop(t *testing.T) {
	raw := append(rec("file_path", "id", "schema_name", "entity_schema_name", "student_name"),
		resultColumns...)
	drop := []string{"Line", "STATUS", "attempts", "HTTP Status", "error_type", "error",
		"uploaded_file", "bytes", "duration_ms", "finished_at", "file_mtime"}

	h, err := manifest.ParseHeader(raw, drop)
	if err != nil {
		t.Fatalf("ParseHeader: %v", err)
	}
	want := rec("file_path", "id", "schema_name", "entity_schema_name", "student_name")
	if !slices.Equal(h.Own, want) {
		t.Errorf("Own = %q, want %q", h.Own, want)
	}
	if got := h.Index(manifest.ColEntitySchemaName); got != 3 {
		t.Errorf("Index(entity_schema_name) = %d, want 3", got)
	}
}

func TestParseHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		raw  []string
		want string
	}{
		{
			name: "file_path twice",
			raw:  rec("file_path", "path", "id", "schema_name", "entity_schema_name"),
			want: `manifest header: columns 1 ("file_path") and 2 ("path") both mean file_path`,
		},
		{
			name: "id as Id and Lead ID",
			raw:  rec("Id", "file_path", " Lead ID ", "schema_name", "entity_schema_name"),
			want: `manifest header: columns 1 ("Id") and 3 (" Lead ID ") both mean id`,
		},
		{
			name: "duplicate reported before missing",
			raw:  rec("SchemaName", "schema_name"),
			want: `manifest header: columns 1 ("SchemaName") and 2 ("schema_name") ` +
				`both mean schema_name`,
		},
		{
			name: "missing one",
			raw:  rec("file_path", "id", "schema_name"),
			want: "manifest header: missing required column(s) entity_schema_name " +
				"(found: file_path, id, schema_name)",
		},
		{
			name: "missing several",
			raw:  rec("file_path", "entity", "notes"),
			want: "manifest header: missing required column(s) id, schema_name, " +
				"entity_schema_name (found: file_path, entity, notes)",
		},
		{
			name: "optional columns only",
			raw:  rec("entity", "file_type"),
			want: "manifest header: missing required column(s) file_path, id, schema_name, " +
				"entity_schema_name (found: entity, file_type)",
		},
		{
			name: "dropped result column does not count",
			raw:  rec("file_path", "id", "schema_name", "status"),
			want: "manifest header: missing required column(s) entity_schema_name " +
				"(found: file_path, id, schema_name, status)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := manifest.ParseHeader(tt.raw, resultColumns)
			if err == nil {
				t.Fatal("ParseHeader succeeded, want an error")
			}
			if !errors.Is(err, manifest.ErrHeader) {
				t.Errorf("error %v does not wrap ErrHeader", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

// TestNewReaderHeader covers what NewReader does to the header before it
// is parsed: byte-order marks, line ends and separators.
func TestNewReaderHeader(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		own     []string
		wantErr string
	}{
		{
			name: "utf-8 bom glued to the first name",
			text: "\xEF\xBB\xBFfile_path,id,schema_name,entity_schema_name\n",
			own:  rec("file_path", "id", "schema_name", "entity_schema_name"),
		},
		{
			name: "utf-8 bom before a quoted name",
			text: "\xEF\xBB\xBF\"File Path\",id,schema_name,entity_schema_name\n",
			own:  rec("File Path", "id", "schema_name", "entity_schema_name"),
		},
		{
			name: "crlf",
			text: "file_path,id,schema_name,entity_schema_name\r\n",
			own:  rec("file_path", "id", "schema_name", "entity_schema_name"),
		},
		{
			name: "no line end",
			text: "file_path,id,schema_name,entity_schema_name",
			own:  rec("file_path", "id", "schema_name", "entity_schema_name"),
		},
		{
			name: "blank lines before the header",
			text: "\n\r\nfile_path,id,schema_name,entity_schema_name\n",
			own:  rec("file_path", "id", "schema_name", "entity_schema_name"),
		},
		{
			name:    "utf-16 little endian",
			text:    "\xFF\xFEf\x00i\x00l\x00e\x00",
			wantErr: "manifest header: the manifest is UTF-16 text; save it as CSV (UTF-8)",
		},
		{
			name:    "utf-16 big endian",
			text:    "\xFE\xFF\x00f\x00i\x00l\x00e",
			wantErr: "manifest header: the manifest is UTF-16 text; save it as CSV (UTF-8)",
		},
		{
			name:    "empty",
			text:    "",
			wantErr: "manifest header: the manifest is empty",
		},
		{
			name:    "bom only",
			text:    "\xEF\xBB\xBF",
			wantErr: "manifest header: the manifest is empty",
		},
		{
			name: "semicolons",
			text: "file_path;id;schema_name;entity_schema_name\n",
			wantErr: "manifest header: missing required column(s) file_path, id, schema_name, " +
				"entity_schema_name (found: file_path;id;schema_name;entity_schema_name); " +
				"the header looks separated by ';', tab or '|': save the manifest as " +
				"comma-separated CSV",
		},
		{
			name: "tabs",
			text: "file_path\tid\tschema_name\tentity_schema_name\n",
			wantErr: "manifest header: missing required column(s) file_path, id, schema_name, " +
				"entity_schema_name (found: file_path\tid\tschema_name\tentity_schema_name); " +
				"the header looks separated by ';', tab or '|': save the manifest as " +
				"comma-separated CSV",
		},
		{
			name: "semicolon inside one of several names gives no hint",
			text: "file_path;x,id,schema_name\n",
			wantErr: "manifest header: missing required column(s) file_path, " +
				"entity_schema_name (found: file_path;x, id, schema_name)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := manifest.NewReader(strings.NewReader(tt.text), manifest.Options{})
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("NewReader succeeded with header %q, want an error", r.Header().Own)
				}
				if !errors.Is(err, manifest.ErrHeader) {
					t.Errorf("error %v does not wrap ErrHeader", err)
				}
				if err.Error() != tt.wantErr {
					t.Errorf("error:\n got %s\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			if got := r.Header().Own; !slices.Equal(got, tt.own) {
				t.Errorf("Own = %q, want %q", got, tt.own)
			}
			if got := r.Header().Index(manifest.ColFilePath); got != 0 {
				t.Errorf("Index(file_path) = %d, want 0", got)
			}
		})
	}
}

func TestNewReaderMalformedHeader(t *testing.T) {
	_, err := manifest.NewReader(strings.NewReader("file_path,\"id\n"), manifest.Options{})
	if !errors.Is(err, manifest.ErrHeader) {
		t.Fatalf("error %v does not wrap ErrHeader", err)
	}
	var perr *csv.ParseError
	if !errors.As(err, &perr) {
		t.Fatalf("error %v does not wrap a *csv.ParseError", err)
	}
	if perr.StartLine != 1 || !errors.Is(perr.Err, csv.ErrQuote) {
		t.Errorf("ParseError = %+v, want StartLine 1 and ErrQuote", perr)
	}
}

func TestParseHeaderDuplicatesAndOurColumns(t *testing.T) {
	drop := []string{"line", "status", "error"}
	tests := []struct {
		name    string
		raw     []string
		wantOwn []string
		wantErr string
	}{
		{"a column of its own named twice",
			[]string{"file_path", "id", "schema_name", "entity_schema_name", "notes", " Notes "},
			nil, `manifest header: columns 5 ("notes") and 6 (" Notes ") have the same name`},
		{"empty names may repeat",
			[]string{"file_path", "id", "schema_name", "entity_schema_name", "", ""},
			[]string{"file_path", "id", "schema_name", "entity_schema_name", "", ""}, ""},
		{"some of our names are the manifest's own",
			[]string{"file_path", "id", "schema_name", "entity_schema_name", "Status", "Line"},
			[]string{"file_path", "id", "schema_name", "entity_schema_name", "Status", "Line"}, ""},
		{"all of our names: an output fed back",
			[]string{"file_path", "id", "schema_name", "entity_schema_name", "line", "status",
				"error"},
			[]string{"file_path", "id", "schema_name", "entity_schema_name"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := manifest.ParseHeader(tt.raw, drop)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(h.Own, tt.wantOwn) {
				t.Errorf("own %q, err %v; want %q", h.Own, err, tt.wantOwn)
			}
		})
	}
}
