package ledger

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/danzen-gw/danzen/internal/msg"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// maxProblems bounds the findings kept in memory; the count goes on.
const maxProblems = 100

// Head is the anchor in head.json: the last entry's seq, hash and time.
type Head struct {
	Seq  uint64    `json:"seq"`
	Hash string    `json:"hash"`
	Time time.Time `json:"time"`
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
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, p)
	}
}

type scanOptions struct {
	// stopAtProblem ends the scan at the first finding (Read).
	stopAtProblem bool
	// visit is called for each entry whose line has no finding.
	visit func(Entry) error
}

// scanLedger walks the ledger lines, checking each entry's hash and its
// link to the line before. The error is only for I/O or from visit;
// findings go to the result.
func scanLedger(r io.Reader, opt scanOptions) (scanResult, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var res scanResult
	wantSeq, wantPrev, chainKnown := uint64(1), GenesisHash, true
	var off int64
	var lastTime time.Time
	for lineNo := 1; ; lineNo++ {
		line, complete, n, tooLong, err := readLine(br)
		if err != nil {
			return res, err
		}
		if n == 0 {
			return res, nil
		}
		if !complete {
			res.Torn = &tornTail{Line: lineNo, Offset: off, Size: n}
			return res, nil
		}
		isLast := false
		if _, err := br.Peek(1); errors.Is(err, io.EOF) {
			isLast = true
		} else if err != nil {
			return res, err
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
				res.Torn = &tornTail{Line: lineNo, Offset: off, Size: n}
				return res, nil
			}
			res.Lines = lineNo
			res.add(problemMalformed(lineNo, perr.Error()))
			chainKnown = false
			off += n
			res.GoodSize = off
			if opt.stopAtProblem {
				return res, nil
			}
			continue
		}
		res.Lines = lineNo
		found := false
		if !p.hashOK {
			res.add(problemHash(lineNo, p.Seq))
			found = true
		}
		if chainKnown {
			if p.Seq != wantSeq {
				res.add(problemSeq(lineNo, wantSeq, p.Seq))
				found = true
			} else if p.Prev != wantPrev {
				res.add(problemPrev(lineNo, p.Seq))
				found = true
			}
		}
		if !lastTime.IsZero() && p.Time.Before(lastTime) && len(res.Backwards) < maxProblems {
			res.Backwards = append(res.Backwards, p.Seq)
		}
		lastTime = p.Time
		res.Entries++
		res.BeforeLast = res.Last
		res.Last = Head{Seq: p.Seq, Hash: p.Hash, Time: p.Time}
		// Resynchronise on this line so one damaged entry yields one finding.
		wantSeq, wantPrev, chainKnown = p.Seq+1, p.Hash, true
		off += n
		res.GoodSize = off
		if found {
			if opt.stopAtProblem {
				return res, nil
			}
			continue
		}
		if opt.visit != nil {
			if err := opt.visit(p.Entry); err != nil {
				return res, err
			}
		}
	}
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
