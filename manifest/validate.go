package manifest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Entity is the kind of LeadSquared record a file is attached to.
type Entity int

// The entities a manifest may name.
const (
	EntityLead Entity = iota
	EntityActivity
	EntityOpportunity
)

// String returns the manifest spelling of e.
func (e Entity) String() string {
	switch e {
	case EntityActivity:
		return "activity"
	case EntityOpportunity:
		return "opportunity"
	default:
		return "lead"
	}
}

// Code returns the API's Entity value: 0 for leads, 1 for activities and
// opportunities.
func (e Entity) Code() int {
	if e == EntityLead {
		return 0
	}
	return 1
}

// ParseEntity reads an entity as a manifest may write it; empty means lead.
func ParseEntity(s string) (Entity, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "lead", "0":
		return EntityLead, nil
	case "activity", "1":
		return EntityActivity, nil
	case "opportunity":
		return EntityOpportunity, nil
	}
	return 0, fmt.Errorf("unknown entity %q: use lead, activity, opportunity, 0 or 1", s)
}

var (
	guidRE = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-` +
		`[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)
	eventCodeRE = regexp.MustCompile(`^[0-9]{1,18}$`)
	schemaRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// checker validates rows against the run's limits.
type checker struct {
	dir     string
	maxSize int64
	exts    map[string]bool // nil: any extension
	order   []string        // exts as configured, for messages
}

func newChecker(opts Options) checker {
	c := checker{dir: opts.Dir, maxSize: opts.MaxFileSize}
	if dir, err := filepath.Abs(c.dir); err == nil {
		c.dir = dir
	}
	if c.maxSize == 0 {
		c.maxSize = DefaultMaxFileSize
	}

	exts := opts.Extensions
	if exts == nil {
		exts = DefaultExtensions
	}
	c.exts = make(map[string]bool, len(exts))
	for _, e := range exts {
		e = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(e), "."))
		if e == "*" {
			c.exts = nil
			break
		}
		if !c.exts[e] {
			c.order = append(c.order, e)
		}
		c.exts[e] = true
	}
	return c
}

// validate fills the row's typed fields or sets its Err, checking the
// cheap columns before touching the file system.
func (c checker) validate(row *Row) {
	steps := []func(*Row) (string, error){
		checkEntity, checkID, checkSchemas, checkNumbers, c.checkFile,
	}
	for _, step := range steps {
		if col, err := step(row); err != nil {
			row.Err = &RowError{Line: row.Line, Column: col, Err: err}
			return
		}
	}
}

func checkEntity(row *Row) (string, error) {
	e, err := ParseEntity(row.Fields.Entity)
	row.Entity = e
	return ColEntity, err
}

func checkID(row *Row) (string, error) {
	id := row.Fields.ID
	switch {
	case id == "":
		return ColID, errors.New("missing value")
	case row.Entity == EntityLead && !guidRE.MatchString(id):
		return ColID, fmt.Errorf("lead id %q is not a GUID "+
			"(like 0f8fad5b-d9cb-469f-a165-70867728950e)", id)
	case row.Entity != EntityLead && !eventCodeRE.MatchString(id):
		return ColID, fmt.Errorf("%s id %q is not an event code (a whole number like 12005)",
			row.Entity, id)
	}
	return "", nil
}

func checkSchemas(row *Row) (string, error) {
	names := []struct{ col, val string }{
		{ColSchemaName, row.Fields.SchemaName},
		{ColEntitySchemaName, row.Fields.EntitySchemaName},
	}
	for _, n := range names {
		if n.val == "" {
			return n.col, errors.New("missing value")
		}
		if !schemaRE.MatchString(n.val) {
			return n.col, fmt.Errorf("%q is not a schema name (letters, digits and _, "+
				"like mx_CustomObject_2)", n.val)
		}
	}
	return "", nil
}

func checkNumbers(row *Row) (string, error) {
	nums := []struct {
		col string
		val string
		def int
		dst *int
	}{
		{ColFileType, row.Fields.FileType, 7, &row.FileType},
		{ColFileStorageType, row.Fields.FileStorageType, 0, &row.FileStorageType},
		{ColStorageVersion, row.Fields.StorageVersion, 0, &row.StorageVersion},
	}
	for _, n := range nums {
		if n.val == "" {
			*n.dst = n.def
			continue
		}
		v, err := strconv.Atoi(n.val)
		if err != nil || v < 0 {
			return n.col, fmt.Errorf("%q is not a whole number", n.val)
		}
		*n.dst = v
	}
	return "", nil
}

// checkFile resolves the row's path and checks that it names a readable,
// non-empty regular file within the limits.
func (c checker) checkFile(row *Row) (string, error) {
	p := row.Fields.FilePath
	if p == "" {
		return ColFilePath, errors.New("missing value")
	}
	info, err := c.resolve(row, p)
	if err != nil {
		return ColFilePath, describeStatError(row.Fields.FilePath, err)
	}
	row.Size, row.ModTime = info.Size(), info.ModTime()

	if err := c.checkInfo(row.Fields.FilePath, info); err != nil {
		return ColFilePath, err
	}
	return ColFilePath, checkReadable(row.Path, row.Fields.FilePath)
}

// resolve sets row.Path from the manifest's path p and stats it.
func (c checker) resolve(row *Row, p string) (os.FileInfo, error) {
	row.Path = ResolvePath(c.dir, p)
	return os.Stat(row.Path)
}

// ResolvePath returns the absolute path a manifest's file path p names,
// relative paths being relative to dir. A path written with Windows
// separators (docs\a.pdf, from a spreadsheet made on Windows) that names
// nothing as written, but does with slashes, is taken with slashes.
func ResolvePath(dir, p string) string {
	abs := func(p string) string {
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return filepath.Clean(p)
	}

	path := abs(p)
	if !strings.Contains(p, `\`) {
		return path
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		alt := abs(filepath.FromSlash(strings.ReplaceAll(p, `\`, "/")))
		if _, err := os.Stat(alt); err == nil {
			return alt
		}
	}
	return path
}

func (c checker) checkInfo(name string, info os.FileInfo) error {
	switch {
	case info.IsDir():
		return fmt.Errorf("%s is a directory, not a file", name)
	case !info.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", name)
	case info.Size() == 0:
		return fmt.Errorf("%s is empty", name)
	case c.maxSize > 0 && info.Size() > c.maxSize:
		return fmt.Errorf("%s is %d bytes, over the limit of %d (--max-file-size)",
			name, info.Size(), c.maxSize)
	}

	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(name), "."))
	if c.exts != nil && !c.exts[ext] {
		return fmt.Errorf("%s: file type %q is not allowed (--allowed-ext %s)",
			name, ext, c.extList())
	}
	return nil
}

func (c checker) extList() string { return strings.Join(c.order, ",") }

func describeStatError(name string, err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("file not found: %s", name)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("cannot read %s: permission denied", name)
	}
	return fmt.Errorf("cannot read %s: %w", name, err)
}

// checkReadable opens the file once, so that a permission problem is a
// rejection now rather than a failed upload later.
func checkReadable(path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return describeStatError(name, err)
	}
	return f.Close()
}
