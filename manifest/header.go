// Package manifest reads and validates lsqupload manifests: CSV files that
// map local documents to the LeadSquared records and Custom Field Set fields
// they belong to. A manifest is read as a stream, one record at a time, so a
// bad record costs one row and a million-row manifest costs one row of memory.
package manifest

import (
	"errors"
	"fmt"
	"strings"
)

// Canonical column names. Header cells are matched to these after
// normalisation (case, surrounding spaces, underscores) and aliases.
const (
	ColFilePath         = "file_path"
	ColEntity           = "entity"
	ColID               = "id"
	ColSchemaName       = "schema_name"
	ColEntitySchemaName = "entity_schema_name"
	ColFileType         = "file_type"
	ColFileStorageType  = "file_storage_type"
	ColStorageVersion   = "storage_version"
)

// Columns lists the canonical columns in the order of the Fields struct.
var Columns = []string{
	ColFilePath, ColEntity, ColID, ColSchemaName, ColEntitySchemaName,
	ColFileType, ColFileStorageType, ColStorageVersion,
}

// Required lists the columns a manifest header must have.
var Required = []string{ColFilePath, ColID, ColSchemaName, ColEntitySchemaName}

// aliases maps a normalised header cell to its canonical column.
var aliases = map[string]string{
	"filepath":         ColFilePath,
	"path":             ColFilePath,
	"file":             ColFilePath,
	"entity":           ColEntity,
	"id":               ColID,
	"leadid":           ColID,
	"prospectid":       ColID,
	"schemaname":       ColSchemaName,
	"entityschemaname": ColEntitySchemaName,
	"filetype":         ColFileType,
	"filestoragetype":  ColFileStorageType,
	"storageversion":   ColStorageVersion,
}

// ErrHeader is wrapped by every error about a manifest's header; such an
// error stops a run before anything is sent.
var ErrHeader = errors.New("manifest header")

// Header describes a manifest's columns: the ones it carries as its own
// (everything but dropped result columns, in their original spelling and
// order) and where each canonical column sits among them.
type Header struct {
	// Own holds the manifest's own column names as written.
	Own []string

	// source maps each position of Own to its position in the raw record.
	source []int

	// canon maps a canonical column name to its position in Own.
	canon map[string]int

	// width is the number of cells in the raw header.
	width int
}

// Index returns the position in Own of the canonical column col, or -1.
func (h Header) Index(col string) int {
	if i, ok := h.canon[col]; ok {
		return i
	}
	return -1
}

// CanonicalName returns the canonical column a header cell names, or, for
// a column of the manifest's own, the cell folded the way headers are
// compared (case, spaces, underscores, a byte-order mark).
func CanonicalName(cell string) string {
	key := normalise(cell)
	if col, ok := aliases[key]; ok {
		return col
	}
	return key
}

// normalise folds a header cell to the key used for alias lookup.
func normalise(cell string) string {
	s := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(cell, "\ufeff")))
	return strings.NewReplacer("_", "", "-", "", " ", "").Replace(s)
}

// ParseHeader builds a Header from the raw header record. When the header
// holds every column named in drop (our result columns: the manifest is one
// of our own outputs fed back in), those are left out of Own so the new
// run's values replace them; a manifest that merely has a column called
// status keeps it. Two cells naming the same column are an error.
func ParseHeader(raw []string, drop []string) (Header, error) {
	h := Header{canon: make(map[string]int), width: len(raw)}
	dropped := droppedColumns(raw, drop)

	seen := make(map[string]int)
	names := make(map[string]int)
	for i, cell := range raw {
		key := normalise(cell)
		if dropped[key] {
			continue
		}
		if col, ok := aliases[key]; ok {
			if prev, dup := seen[col]; dup {
				return Header{}, fmt.Errorf("%w: columns %d (%q) and %d (%q) both mean %s",
					ErrHeader, prev+1, raw[prev], i+1, cell, col)
			}
			seen[col] = i
			h.canon[col] = len(h.Own)
		}
		if prev, dup := names[key]; dup && key != "" {
			return Header{}, fmt.Errorf("%w: columns %d (%q) and %d (%q) have the same name",
				ErrHeader, prev+1, raw[prev], i+1, cell)
		}
		names[key] = i
		h.Own = append(h.Own, strings.TrimSpace(strings.TrimPrefix(cell, "\ufeff")))
		h.source = append(h.source, i)
	}

	if err := checkRequired(raw, seen); err != nil {
		return Header{}, err
	}
	return h, nil
}

// droppedColumns returns the normalised names of drop when raw holds all
// of them, and none otherwise.
func droppedColumns(raw, drop []string) map[string]bool {
	present := make(map[string]bool, len(raw))
	for _, cell := range raw {
		present[normalise(cell)] = true
	}
	dropped := make(map[string]bool, len(drop))
	for _, d := range drop {
		if !present[normalise(d)] {
			return nil
		}
		dropped[normalise(d)] = true
	}
	return dropped
}

// checkRequired names every required column the header lacks, with a hint
// when the file looks separated by something other than commas.
func checkRequired(raw []string, seen map[string]int) error {
	var missing []string
	for _, col := range Required {
		if _, ok := seen[col]; !ok {
			missing = append(missing, col)
		}
	}
	if len(missing) == 0 {
		return nil
	}

	found := strings.Join(raw, ", ")
	if strings.ContainsRune(found, 0) {
		return &headerError{msg: fmt.Sprintf("%v: the manifest looks like UTF-16 text; "+
			"save it as CSV (UTF-8)", ErrHeader)}
	}
	if len(found) > 200 {
		found = found[:200] + "…"
	}
	msg := fmt.Sprintf("%v: missing required column(s) %s (found: %s)", ErrHeader,
		strings.Join(missing, ", "), found)
	switch joined := strings.Join(raw, ","); {
	case strings.Contains(joined, "\r"):
		msg += "; the lines end in a lone carriage return (old Mac text): save the " +
			"manifest with LF or CRLF line ends"
	case len(raw) == 1 && strings.ContainsAny(raw[0], ";\t|"):
		msg += "; the header looks separated by ';', tab or '|': save the manifest " +
			"as comma-separated CSV"
	}
	return &headerError{msg: msg}
}

// headerError is a header problem whose message is already complete.
type headerError struct{ msg string }

func (e *headerError) Error() string { return e.msg }

func (e *headerError) Unwrap() error { return ErrHeader }
