package tape

import "errors"

// Device is an open tape drive in variable-block mode, as the st driver
// presents /dev/nstN (the non-rewinding node): each write is one record,
// each read returns one record, and filemarks separate the tape's files.
// The real driver is St; tapefake models the same behaviour in memory.
type Device interface {
	// Status reports the drive and cartridge state.
	Status() (Status, error)
	// Load pulls in a cartridge left in the slot (after an earlier eject).
	Load() error
	// SetVariableBlock makes every write one record of its own length.
	SetVariableBlock() error
	Rewind() error
	// SpaceFiles moves forward over n filemarks, to the start of a file.
	SpaceFiles(n int) error
	// SpaceEOD moves to the end of recorded data, where appending starts.
	SpaceEOD() error
	// WriteRecord writes p as one record. At the end of the medium it
	// returns an error wrapping ErrEndOfMedium.
	WriteRecord(p []byte) error
	// ReadRecord reads one record into p. Crossing a filemark returns
	// ErrFilemark (positioned after it); blank tape returns ErrEndOfData.
	ReadRecord(p []byte) (int, error)
	WriteFilemark() error
	// Unload rewinds and ejects the cartridge (MTOFFL).
	Unload() error
	Close() error
}

// Status is what MTIOCGET reports, in the words danzen needs.
type Status struct {
	Online         bool // a cartridge is loaded and ready
	BOT            bool // at the beginning of the tape
	EOD            bool // at the end of recorded data
	WriteProtected bool
	File           int // current file number (-1 when unknown)
	Block          int // current record in the file (-1 when unknown)
}

// Host is where a drive is attached: it says whether the drive is there
// (powered and found by the kernel) and opens it.
type Host interface {
	Present() bool
	// Open opens the drive, for writing when write is true.
	Open(write bool) (Device, error)
	// String names the drive for messages (its device path).
	String() string
}

var (
	ErrFilemark       = errors.New("tape: filemark")
	ErrEndOfData      = errors.New("tape: end of recorded data")
	ErrEndOfMedium    = errors.New("tape: end of medium")
	ErrWriteProtected = errors.New("tape: write-protected")
)
