package ledger

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// MaxListed bounds the findings and the clock jumps a Report lists (the
// problem count goes on).
const MaxListed = 100

// Head is the anchor in head.json: the last entry's seq, hash and time.
type Head struct {
	Seq  uint64    `json:"seq"`
	Hash string    `json:"hash"`
	Time time.Time `json:"time"`
}

// Anchor is a point of the chain that was verified before: entry Seq with
// Hash and Time, whose line ends at byte Offset of ledger.jsonl. Reading
// on from an Anchor checks that entry against the file first (its own
// hash, seq and hash), then only the lines after it. Take one only from a
// ledger that verified (its lines are then exactly seq 1 … Seq); the zero
// Anchor is the start of the chain.
type Anchor struct {
	Seq    uint64    `json:"seq"`
	Hash   string    `json:"hash"`
	Time   time.Time `json:"time"`
	Offset int64     `json:"offset"`
}

// anchorOf is the Anchor of entry e whose line ends at end.
func anchorOf(e Entry, end int64) Anchor {
	return Anchor{Seq: e.Seq, Hash: e.Hash, Time: e.Time, Offset: end}
}

// tornTail is a final line that is not part of the chain.
type tornTail struct {
	Line   int
	Offset int64
	Size   int64
}

type scanResult struct {
	Lines        int   // complete lines read (torn tail excluded)
	Entries      int   // lines that parsed as entries
	Last         Head  // last parsed entry
	BeforeLast   Head  // the one before it, to accept a head lagging by one
	GoodSize     int64 // offset just past the last complete line
	Torn         *tornTail
	Problems     []Problem
	ProblemCount int
	Backwards    []uint64 // seqs whose time is before the previous entry's
}

func (r *scanResult) add(p Problem) {
	r.ProblemCount++
	if len(r.Problems) < MaxListed {
		r.Problems = append(r.Problems, p)
	}
}

type scanOptions struct {
	// stopAtProblem ends the scan at the first finding (Read).
	stopAtProblem bool
	// visit is called for each entry whose line has no finding, with the
	// Anchor just past it.
	visit func(Entry, Anchor) error
	// from is where the reader starts: just past this verified entry
	// (zero: the first line), and prev is that entry's prev.
	from Anchor
	prev string
}

// scanner walks the ledger lines, checking each entry's hash and its link
// to the line before.
type scanner struct {
	br         *bufio.Reader
	opt        scanOptions
	res        scanResult
	lineNo     int
	off        int64
	wantSeq    uint64
	wantPrev   string
	chainKnown bool
	lastTime   time.Time
}

// scanLedger scans r, which starts at opt.from. The error is only for I/O
// or from visit; findings go to the result.
func scanLedger(r io.Reader, opt scanOptions) (scanResult, error) {
	a := opt.from
	s := &scanner{br: bufio.NewReaderSize(r, 64<<10), opt: opt,
		lineNo: int(a.Seq), off: a.Offset, wantSeq: a.Seq + 1, wantPrev: a.Hash, chainKnown: true, lastTime: a.Time}
	if a.Seq == 0 {
		s.wantPrev = GenesisHash
	} else {
		s.res = scanResult{Lines: int(a.Seq), Entries: int(a.Seq), GoodSize: a.Offset,
			Last: Head{Seq: a.Seq, Hash: a.Hash, Time: a.Time}, BeforeLast: Head{Seq: a.Seq - 1, Hash: opt.prev}}
	}
	for {
		done, err := s.next()
		if done || err != nil {
			return s.res, err
		}
	}
}

// next reads and checks one line; done at the end or at a finding the
// options stop at.
func (s *scanner) next() (done bool, err error) {
	s.lineNo++
	line, complete, n, tooLong, err := readLine(s.br)
	if err != nil || n == 0 {
		return true, err
	}
	if !complete {
		s.res.Torn = &tornTail{Line: s.lineNo, Offset: s.off, Size: n}
		return true, nil
	}
	isLast := false
	if _, err := s.br.Peek(1); errors.Is(err, io.EOF) {
		isLast = true
	} else if err != nil {
		return true, err
	}
	var p parsedLine
	var perr error
	if tooLong {
		perr = fmt.Errorf("longer than %d bytes", MaxLineBytes)
	} else {
		p, perr = parseLine(line)
	}
	if perr != nil {
		// A last line that is not even JSON is what a crash leaves
		// (e.g. zero-filled blocks); one that is JSON but wrong was edited.
		if isLast && (tooLong || !json.Valid(line)) {
			s.res.Torn = &tornTail{Line: s.lineNo, Offset: s.off, Size: n}
			return true, nil
		}
		s.res.Lines = s.lineNo
		s.res.add(problemMalformed(s.lineNo, perr.Error()))
		s.chainKnown = false
		s.off += n
		s.res.GoodSize = s.off
		return s.opt.stopAtProblem, nil
	}
	return s.entry(p, n)
}

// entry checks a parsed line against the chain and hands it to visit.
func (s *scanner) entry(p parsedLine, n int64) (done bool, err error) {
	s.res.Lines = s.lineNo
	found := false
	if !p.hashOK {
		s.res.add(problemHash(s.lineNo, p.Seq))
		found = true
	}
	if s.chainKnown {
		if p.Seq != s.wantSeq {
			s.res.add(problemSeq(s.lineNo, s.wantSeq, p.Seq))
			found = true
		} else if p.Prev != s.wantPrev {
			s.res.add(problemPrev(s.lineNo, p.Seq))
			found = true
		}
	}
	if !s.lastTime.IsZero() && p.Time.Before(s.lastTime) && len(s.res.Backwards) < MaxListed {
		s.res.Backwards = append(s.res.Backwards, p.Seq)
	}
	s.lastTime = p.Time
	s.res.Entries++
	s.res.BeforeLast = s.res.Last
	s.res.Last = Head{Seq: p.Seq, Hash: p.Hash, Time: p.Time}
	// Resynchronise on this line so one damaged entry yields one finding.
	s.wantSeq, s.wantPrev, s.chainKnown = p.Seq+1, p.Hash, true
	s.off += n
	s.res.GoodSize = s.off
	if found {
		return s.opt.stopAtProblem, nil
	}
	if s.opt.visit != nil {
		if err := s.opt.visit(p.Entry, anchorOf(p.Entry, s.off)); err != nil {
			return true, err
		}
	}
	return false, nil
}

// readLine reads one line. complete is false for a final segment without
// "\n"; n counts the bytes consumed including "\n". Lines over
// MaxLineBytes are consumed but not kept (tooLong).
func readLine(br *bufio.Reader) (line []byte, complete bool, n int64, tooLong bool, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		n += int64(len(frag))
		if !tooLong {
			if len(line)+len(frag) > MaxLineBytes+1 {
				tooLong, line = true, nil
			} else {
				line = append(line, frag...)
			}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return line, false, n, tooLong, nil
		case err != nil:
			return nil, false, n, tooLong, err
		}
		if !tooLong {
			line = line[:len(line)-1]
		}
		return line, true, n, tooLong, nil
	}
}

// checkAnchor reads the line that ends at a.Offset in f (size bytes) and
// checks it is the entry a names, with a hash that matches its bytes. It
// returns that entry's prev, or an error wrapping ErrAnchorMismatch (or
// an I/O error).
func checkAnchor(f io.ReaderAt, size int64, a Anchor) (prev string, err error) {
	if a.Seq == 0 || a.Offset <= 0 || a.Offset > size {
		return "", fmt.Errorf("%w: offset %d outside the ledger's %d bytes", ErrAnchorMismatch, a.Offset, size)
	}
	line, err := lineBefore(f, a.Offset)
	if err != nil {
		return "", err
	}
	p, err := parseLine(line)
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: %w", ErrAnchorMismatch, err)
	case !p.hashOK || p.Seq != a.Seq || p.Hash != a.Hash || !p.Time.Equal(a.Time):
		return "", fmt.Errorf("%w: the line before offset %d is not seq %d with hash %s", ErrAnchorMismatch, a.Offset, a.Seq, a.Hash)
	}
	return p.Prev, nil
}

// lineBefore returns the line (without "\n") that ends just before end,
// reading backwards in growing steps.
func lineBefore(f io.ReaderAt, end int64) ([]byte, error) {
	buf := make([]byte, 1)
	if _, err := f.ReadAt(buf, end-1); err != nil {
		return nil, err
	}
	if buf[0] != '\n' {
		return nil, fmt.Errorf("%w: offset %d is not the end of a line", ErrAnchorMismatch, end)
	}
	for step := int64(4 << 10); ; step *= 4 {
		start := max(0, end-1-step)
		buf = make([]byte, end-1-start)
		if _, err := f.ReadAt(buf, start); err != nil {
			return nil, err
		}
		if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
			return buf[i+1:], nil
		}
		if start == 0 {
			return buf, nil
		}
		if step > MaxLineBytes {
			return nil, fmt.Errorf("%w: no line start within the longest line allowed", ErrAnchorMismatch)
		}
	}
}

// checkHead compares head.json with the end of the chain. lag reports the
// one tolerated state: the last line written but head.json not yet replaced.
func checkHead(h *Head, headErr error, res scanResult) (problems []Problem, lag bool) {
	last := res.Last
	if headErr != nil {
		return []Problem{problemHead(msg.Sprintf("head.json を読めません（%v）",
			"head.json cannot be read (%v)", headErr))}, false
	}
	if h == nil {
		switch {
		case res.Entries == 0:
			return nil, false
		case res.Entries == 1 && last.Seq == 1:
			return nil, true
		}
		return []Problem{problemHead(msg.Sprintf("head.json がありません（台帳には seq %d までの記録があります）。削除されたか、台帳が別の場所から持ち込まれています",
			"head.json is missing although the ledger holds entries up to seq %d: it was deleted or the ledger was brought in from elsewhere", last.Seq))}, false
	}
	switch {
	case res.Entries == 0 || h.Seq > last.Seq:
		return []Problem{problemTruncated(res.Lines+1, last.Seq, h.Seq)}, false
	case h.Seq == last.Seq:
		if h.Hash != last.Hash {
			return []Problem{problemHead(msg.Sprintf("head.json の seq %d のハッシュが台帳の最終記録と一致しません。末尾の記録が差し替えられています",
				"head.json records a different hash for seq %d than the ledger's last entry: the last entry was replaced", h.Seq))}, false
		}
		return nil, false
	case h.Seq+1 == last.Seq && h.Hash == res.BeforeLast.Hash:
		return nil, true
	}
	return []Problem{problemHead(msg.Sprintf("head.json は seq %d を記録していますが、台帳は seq %d まであります。head.json が古い版に戻されたか、記録が後から追加されています",
		"head.json records seq %d but the ledger goes on to seq %d: head.json was rolled back or entries were added afterwards", h.Seq, last.Seq))}, false
}

// readHead returns nil, nil when head.json does not exist.
func readHead(dir string) (*Head, error) {
	b, err := os.ReadFile(filepath.Join(dir, HeadFileName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var h Head
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("%s: %w", HeadFileName, err)
	}
	if h.Seq == 0 || !isHex64(h.Hash) {
		return nil, fmt.Errorf("%s: seq or hash missing", HeadFileName)
	}
	return &h, nil
}
