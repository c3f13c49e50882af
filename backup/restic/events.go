package restic

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"sync"
	"time"
)

// EventKind is restic's "message_type".
type EventKind string

// The message types danzen uses. Others (e.g. "verbose_status",
// "initialized") are passed on with Raw only.
const (
	KindStatus      EventKind = "status"
	KindSummary     EventKind = "summary"
	KindError       EventKind = "error"
	KindExitError   EventKind = "exit_error"
	KindInitialized EventKind = "initialized"
)

// Event is one JSON message restic printed. Exactly one of the typed
// pointers is set for the kinds above (for "summary", the one matching
// Op); Raw always holds the line as printed.
type Event struct {
	Op             string // restic subcommand that printed it
	Kind           EventKind
	Status         *Status
	Summary        *BackupSummary  // Kind summary, Op "backup"
	RestoreSummary *RestoreSummary // Kind summary, Op "restore"
	CheckSummary   *CheckSummary   // Kind summary, Op "check"
	Error          *ItemError
	Exit           *ExitStatus
	Raw            json.RawMessage
}

// Status is a progress message (backup and restore).
type Status struct {
	SecondsElapsed   uint64   `json:"seconds_elapsed,omitempty"`
	SecondsRemaining uint64   `json:"seconds_remaining,omitempty"`
	PercentDone      float64  `json:"percent_done"` // 0..1
	TotalFiles       uint64   `json:"total_files,omitempty"`
	FilesDone        uint64   `json:"files_done,omitempty"` // backup
	TotalBytes       uint64   `json:"total_bytes,omitempty"`
	BytesDone        uint64   `json:"bytes_done,omitempty"` // backup
	ErrorCount       uint64   `json:"error_count,omitempty"`
	CurrentFiles     []string `json:"current_files,omitempty"`
	FilesRestored    uint64   `json:"files_restored,omitempty"` // restore
	FilesSkipped     uint64   `json:"files_skipped,omitempty"`  // restore
	BytesRestored    uint64   `json:"bytes_restored,omitempty"` // restore
	BytesSkipped     uint64   `json:"bytes_skipped,omitempty"`  // restore
}

// BackupSummary is the final message of a backup.
type BackupSummary struct {
	FilesNew            uint64    `json:"files_new"`
	FilesChanged        uint64    `json:"files_changed"`
	FilesUnmodified     uint64    `json:"files_unmodified"`
	DirsNew             uint64    `json:"dirs_new"`
	DirsChanged         uint64    `json:"dirs_changed"`
	DirsUnmodified      uint64    `json:"dirs_unmodified"`
	DataBlobs           int64     `json:"data_blobs"`
	TreeBlobs           int64     `json:"tree_blobs"`
	DataAdded           uint64    `json:"data_added"`        // bytes, before compression
	DataAddedPacked     uint64    `json:"data_added_packed"` // bytes, as stored
	TotalFilesProcessed uint64    `json:"total_files_processed"`
	TotalBytesProcessed uint64    `json:"total_bytes_processed"`
	TotalDuration       float64   `json:"total_duration"` // seconds
	BackupStart         time.Time `json:"backup_start"`
	BackupEnd           time.Time `json:"backup_end"`
	SnapshotID          string    `json:"snapshot_id,omitempty"`
}

// RestoreSummary is the final message of a restore.
type RestoreSummary struct {
	SecondsElapsed uint64 `json:"seconds_elapsed,omitempty"`
	TotalFiles     uint64 `json:"total_files,omitempty"`
	FilesRestored  uint64 `json:"files_restored,omitempty"`
	FilesSkipped   uint64 `json:"files_skipped,omitempty"`
	FilesDeleted   uint64 `json:"files_deleted,omitempty"`
	TotalBytes     uint64 `json:"total_bytes,omitempty"`
	BytesRestored  uint64 `json:"bytes_restored,omitempty"`
	BytesSkipped   uint64 `json:"bytes_skipped,omitempty"`
}

// CheckSummary is the final message of a check.
type CheckSummary struct {
	NumErrors       int      `json:"num_errors"`
	BrokenPacks     []string `json:"broken_packs"`
	HintRepairIndex bool     `json:"suggest_repair_index"`
	HintPrune       bool     `json:"suggest_prune"`
}

// ItemError is an "error" message: restic could not process one item
// but went on.
type ItemError struct {
	Message string `json:"message"`
	During  string `json:"during,omitempty"` // "scan", "archival", "restore", …
	Item    string `json:"item,omitempty"`   // absolute path for backup
}

// ExitStatus is the "exit_error" message restic prints before a
// non-zero exit.
type ExitStatus struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// maxTail is how many plain-text lines are kept for error messages.
const maxTail = 8

// parser turns restic's mixed stdout/stderr into events. It is fed by two
// lineWriters (one per stream) from two goroutines and serialises them,
// so the callback is never called concurrently for one run.
type parser struct {
	op   string
	emit func(Event)
	log  *slog.Logger

	mu      sync.Mutex
	tail    []string
	items   []ItemError
	exit    *ExitStatus
	last    map[EventKind]Event
	arrays  []json.RawMessage // top-level JSON arrays (snapshots, forget)
	nEvents int
}

func newParser(op string, emit func(Event), log *slog.Logger) *parser {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &parser{op: op, emit: emit, log: log, last: map[EventKind]Event{}}
}

// line handles one complete line (without its newline).
func (p *parser) line(stream string, b []byte) {
	b = bytes.TrimSpace(b)
	// A progress line overwritten with \r: keep the last version.
	if i := bytes.LastIndexByte(b, '\r'); i >= 0 {
		b = bytes.TrimSpace(b[i+1:])
	}
	if len(b) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case b[0] == '{' && json.Valid(b):
		p.object(b)
	case b[0] == '[' && json.Valid(b):
		p.arrays = append(p.arrays, json.RawMessage(bytes.Clone(b)))
	default:
		s := string(b)
		p.log.Debug("restic output", "op", p.op, "stream", stream, "line", s)
		if len(p.tail) == maxTail {
			copy(p.tail, p.tail[1:])
			p.tail = p.tail[:maxTail-1]
		}
		p.tail = append(p.tail, s)
	}
}

func (p *parser) object(b []byte) {
	raw := json.RawMessage(bytes.Clone(b))
	var head struct {
		MessageType EventKind `json:"message_type"`
	}
	_ = json.Unmarshal(raw, &head) // valid JSON object; a missing field leaves ""
	ev := Event{Op: p.op, Kind: head.MessageType, Raw: raw}
	switch head.MessageType {
	case KindStatus:
		var s Status
		if json.Unmarshal(raw, &s) == nil {
			ev.Status = &s
		}
	case KindSummary:
		switch p.op {
		case "backup":
			var s BackupSummary
			if json.Unmarshal(raw, &s) == nil {
				ev.Summary = &s
			}
		case "restore":
			var s RestoreSummary
			if json.Unmarshal(raw, &s) == nil {
				ev.RestoreSummary = &s
			}
		case "check":
			var s CheckSummary
			if json.Unmarshal(raw, &s) == nil {
				ev.CheckSummary = &s
			}
		}
	case KindError:
		// backup/restore: {"error":{"message":…},"during":…,"item":…};
		// check: {"message":…}.
		var e struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
			Message string `json:"message"`
			During  string `json:"during"`
			Item    string `json:"item"`
		}
		if json.Unmarshal(raw, &e) == nil {
			ie := ItemError{Message: e.Error.Message, During: e.During, Item: e.Item}
			if ie.Message == "" {
				ie.Message = e.Message
			}
			ev.Error = &ie
			p.items = append(p.items, ie)
		}
	case KindExitError:
		var x ExitStatus
		if json.Unmarshal(raw, &x) == nil {
			ev.Exit = &x
			p.exit = &x
		}
	}
	p.last[ev.Kind] = ev
	p.nEvents++
	if p.emit != nil {
		p.emit(ev)
	}
}

// lineWriter splits a byte stream into lines for the parser.
type lineWriter struct {
	p      *parser
	stream string
	buf    []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	// Only the new bytes can hold a newline the buffer did not: a long
	// line (snapshots --json) arriving in small pipe writes stays linear.
	if bytes.IndexByte(b, '\n') < 0 {
		w.buf = append(w.buf, b...)
		return len(b), nil
	}
	w.buf = append(w.buf, b...)
	start := 0
	for {
		i := bytes.IndexByte(w.buf[start:], '\n')
		if i < 0 {
			break
		}
		w.p.line(w.stream, w.buf[start:start+i])
		start += i + 1
	}
	if start > 0 {
		n := copy(w.buf, w.buf[start:])
		w.buf = w.buf[:n]
	}
	return len(b), nil
}

// flush hands over a last line that had no newline.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.p.line(w.stream, w.buf)
		w.buf = w.buf[:0]
	}
}

// result accessors; call after the run has finished.

func (p *parser) lastEvent(k EventKind) (Event, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ev, ok := p.last[k]
	return ev, ok
}

func (p *parser) itemErrors() []ItemError {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ItemError(nil), p.items...)
}

func (p *parser) tailLines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.tail...)
}

func (p *parser) exitStatus() *ExitStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exit
}

func (p *parser) lastArray() (json.RawMessage, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.arrays) == 0 {
		return nil, false
	}
	return p.arrays[len(p.arrays)-1], true
}
