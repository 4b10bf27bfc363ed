package batch

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/lsqupload/lsqupload/manifest"
	"github.com/lsqupload/lsqupload/report"
	"github.com/lsqupload/lsqupload/uploader"
)

// Log field keys, in one place so every line names things the same way.
const (
	KeyLine     = "line"
	KeyFile     = "file"
	KeyEntity   = "entity"
	KeyID       = "id"
	KeyStatus   = "status"
	KeyAttempts = "attempts"
	KeyAttempt  = "attempt"
	KeyDelay    = "delay"
	KeyHTTP     = "http_status"
	KeyType     = "error_type"
	KeyReason   = "reason"
	KeyStored   = "uploaded_file"
	KeyElapsed  = "elapsed"
)

// Error types of our own, for rows the server never judged.
const (
	TypeRejected     = "rejected"
	TypeNotAttempted = "not_attempted"
	TypeInterrupted  = "interrupted"
)

// upload sends one valid row and turns what happened into its entry. A
// row a stop caught before the server accepted any of its requests (none
// sent, or all refused by the quota) has no entry (ok is false): it was
// not attempted, and the next run picks it up.
func (r *run) upload(ctx context.Context, row *manifest.Row) (e report.Entry, ok bool) {
	start := time.Now()
	res := r.up.Upload(ctx, request(row))
	if res.Class == uploader.ClassAuth && !res.Interrupted {
		r.setFatal(fmt.Errorf("%w: %s", ErrKeysRefused, res.Message))
		r.cancelUploads()
	}
	if res.Interrupted && res.Attempts == res.Throttled {
		if errors.Is(r.fatalErr(), ErrKeysRefused) {
			return notAttempted(row), true
		}
		r.unsent.Add(1)
		return report.Entry{}, false
	}
	if res.Interrupted {
		r.cutShort.Add(1)
	}

	result := report.Result{
		Line:        row.Line,
		Attempts:    res.Attempts,
		HTTPStatus:  res.Status,
		Bytes:       row.Size,
		DurationMS:  since(start),
		FinishedAt:  stamp(time.Now()),
		FileModTime: stampNano(row.ModTime),
		Destination: r.opts.Destination,
	}
	if res.Err == nil {
		result.Status, result.UploadedFile = report.StatusUploaded, res.UploadedFile
	} else {
		result.Status, result.Error = report.StatusFailed, res.Err.Error()
		result.ErrorType = errorType(res)
	}

	r.logOutcome(row, result)
	return report.Entry{Record: row.Record, Result: result}, true
}

// request builds the upload request of a valid row.
func request(row *manifest.Row) uploader.Request {
	return uploader.Request{
		Path:             row.Path,
		Size:             row.Size,
		FileName:         filepath.Base(row.Path),
		Entity:           row.Entity.Code(),
		ID:               row.Fields.ID,
		SchemaName:       row.Fields.SchemaName,
		EntitySchemaName: row.Fields.EntitySchemaName,
		FileType:         row.FileType,
		FileStorageType:  row.FileStorageType,
		StorageVersion:   row.StorageVersion,
	}
}

// errorType is the server's ExceptionType when it gave one, else our class.
func errorType(res uploader.Result) string {
	switch {
	case res.Interrupted:
		return TypeInterrupted
	case res.ErrorType != "":
		return res.ErrorType
	}
	return res.Class.String()
}

// rejected is the entry of a row that failed validation.
func rejected(row *manifest.Row) report.Entry {
	return report.Entry{Record: row.Record, Result: report.Result{
		Line:       row.Line,
		Status:     report.StatusRejected,
		ErrorType:  TypeRejected,
		Error:      row.Err.Reason(),
		FinishedAt: stamp(time.Now()),
	}}
}

// notAttempted is the entry of a row a fatal condition kept from being
// sent; it fails so that the failures CSV carries it to the next run.
func notAttempted(row *manifest.Row) report.Entry {
	if row.Err != nil {
		return rejected(row)
	}
	return report.Entry{Record: row.Record, Result: report.Result{
		Line:       row.Line,
		Status:     report.StatusFailed,
		ErrorType:  TypeNotAttempted,
		Error:      "not attempted: the run stopped because " + ErrKeysRefused.Error(),
		FinishedAt: stamp(time.Now()),
	}}
}

// logOutcome writes the one line an operator reads per row.
func (r *run) logOutcome(row *manifest.Row, res report.Result) {
	fields := append(describeRow(row),
		zap.String(KeyStatus, string(res.Status)),
		zap.Int(KeyAttempts, res.Attempts),
		zap.Duration(KeyElapsed, time.Duration(res.DurationMS)*time.Millisecond))
	if res.Status == report.StatusUploaded {
		r.log.Info("uploaded", append(fields, zap.String(KeyStored, res.UploadedFile))...)
		return
	}
	r.log.Info("upload failed", append(fields, zap.Int(KeyHTTP, res.HTTPStatus),
		zap.String(KeyType, res.ErrorType), zap.String(KeyReason, res.Error))...)
}

// LogRetry returns an uploader.Options.OnRetry that logs each retry as a
// warning with its attempt and delay.
func LogRetry(log *zap.Logger) func(uploader.RetryEvent) {
	return func(ev uploader.RetryEvent) {
		log.Warn("retrying",
			zap.String(KeyFile, ev.Request.Path),
			zap.String(KeyID, ev.Request.ID),
			zap.Int(KeyAttempt, ev.Attempt),
			zap.Duration(KeyDelay, ev.Delay),
			zap.String(KeyType, ev.Outcome.Class.String()),
			zap.Int(KeyHTTP, ev.Outcome.Status),
			zap.String(KeyReason, ev.Outcome.Message))
	}
}
