package pull

import (
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// EventKind names what happened in a pull.
type EventKind string

const (
	EventStart     EventKind = "pull.start"
	EventListed    EventKind = "pull.listed" // the export was walked; FilesTotal/BytesTotal are what will move
	EventFileStart EventKind = "pull.file"   // a file's transfer starts
	EventResume    EventKind = "pull.resume" // a partial file continues at Offset
	EventFileDone  EventKind = "pull.file.done"
	EventProgress  EventKind = "pull.progress" // periodic totals
	EventProblem   EventKind = "pull.problem"  // a file refused, pending or failed; Message explains
	EventRetry     EventKind = "pull.retry"    // the connection was lost; reconnecting
	EventDone      EventKind = "pull.done"
	progressPeriod           = 500 * time.Millisecond
)

// Event is one step of a pull's (or a send-back's) progress. The CLI
// draws a bar from it; the daemon forwards it to the page.
type Event struct {
	Time       time.Time `json:"time"`
	Kind       EventKind `json:"kind"`
	Source     string    `json:"source"`
	File       string    `json:"file,omitempty"`
	Offset     int64     `json:"offset,omitempty"`
	BytesDone  int64     `json:"bytes_done"`
	BytesTotal int64     `json:"bytes_total"`
	FilesDone  int       `json:"files_done"`
	FilesTotal int       `json:"files_total"`
	Rate       float64   `json:"rate"` // bytes per second, recent
	Message    msg.Text  `json:"message,omitzero"`
}
