package gateway

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/when"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/offsite"
)

// offsiteMarks keeps the ledger's off-site marks in memory: they are few,
// and the page reads them on every view. Loaded from the ledger on first
// use, then kept by the gateway's own writes (every mark goes through
// MarkOffsite or the cycle's skip).
type offsiteMarks struct {
	mu     sync.Mutex
	loaded bool
	marks  []ledger.Entry
	first  time.Time // the ledger's first snapshot
}

// OffsiteMark is a person's mark on the page: a medium taken off-site
// (Away) or brought back.
type OffsiteMark struct {
	Medium string
	Away   bool
	// Actor is the signed-in user; By who carried the medium (Actor when
	// empty); Client the page's client address.
	Actor, By, Client string
	// Note says where it is kept or which cartridge it is.
	Note string
	// At is when it was taken or brought back (zero: now).
	At time.Time
}

// Offsite returns the off-site state at now.
func (g *Gateway) Offsite(now time.Time) (offsite.State, error) {
	marks, first, err := g.offsite.load(g.Config().LedgerDir)
	if err != nil {
		return offsite.State{}, err
	}
	in := offsite.Input{Config: g.Config(), Marks: marks, FirstWritten: first, LastWritten: map[string]time.Time{}, Now: now}
	st, err := g.tracker.Status(g.mediumNames(), now)
	if err != nil && st == nil {
		return offsite.State{}, err
	}
	for _, m := range st.Media {
		if m.LastSnapshot == nil {
			continue
		}
		in.LastWritten[m.Name] = m.LastSnapshot.Time
		// No snapshot when the marks were loaded: the all-home period
		// counts from the oldest medium's newest one (later, never earlier).
		if first.IsZero() && (in.FirstWritten.IsZero() || m.LastSnapshot.Time.Before(in.FirstWritten)) {
			in.FirstWritten = m.LastSnapshot.Time
		}
	}
	return offsite.Fold(in), nil
}

func (g *Gateway) mediumNames() []string {
	var names []string
	for _, m := range g.Config().Media {
		names = append(names, m.Name)
	}
	return names
}

// MarkOffsite records a medium taken off-site or brought back, then
// re-checks the off-site alerts. Refused while a job runs (the medium may
// be powered), for a bucket, for a medium already in that state, and for
// the last medium the cycle could still write.
func (g *Gateway) MarkOffsite(ctx context.Context, mk OffsiteMark) error {
	if !g.job.TryLock() {
		return ErrBusy
	}
	defer g.job.Unlock()
	if mk.At.IsZero() {
		mk.At = time.Now()
	}
	mk.By, mk.Note = strings.TrimSpace(mk.By), strings.TrimSpace(mk.Note)
	if mk.By == "" {
		mk.By = mk.Actor
	}
	st, err := g.Offsite(mk.At)
	if err != nil {
		return err
	}
	if err := markAllowed(g.mediumNames(), st, mk); err != nil {
		return err
	}
	action, text := ledger.OffsiteReturned, msg.Sprintf("媒体 %s を院外保管から戻しました(%s)", "medium %s brought back from off-site (%s)", mk.Medium, mk.By)
	d := ledger.OffsiteData{Action: action, At: mk.At, By: mk.By, Client: mk.Client, Note: mk.Note}
	if mk.Away {
		d.Action = ledger.OffsiteAway
		d.Due = offsite.DueBack(g.Config(), lastWritten(st, mk.Medium), mk.At)
		text = msg.Sprintf("媒体 %s を院外保管に持ち出しました(%s)", "medium %s taken off-site (%s)", mk.Medium, mk.By)
	}
	if err := g.appendMark(ctx, ledger.Entry{Kind: ledger.KindOffsite, Medium: mk.Medium, Actor: mk.Actor, Message: text, Payload: d}); err != nil {
		return err
	}
	_, err = g.CheckOffsite(mk.At)
	return err
}

func lastWritten(st offsite.State, name string) time.Time {
	m, _ := st.Get(name)
	return m.LastWritten
}

// markAllowed refuses a mark that cannot be right.
func markAllowed(names []string, st offsite.State, mk OffsiteMark) error {
	m, ok := st.Get(mk.Medium)
	switch {
	case !ok:
		return msg.Errorf("媒体 %q は設定にありません", "no medium named %q in the configuration", mk.Medium)
	case !m.Portable:
		return msg.Errorf("媒体 %s はバケットです。院外に持ち出せるのはディスク・RDX・テープです", "medium %s is a bucket: only a disk, an RDX cartridge or a tape can be taken off-site", mk.Medium)
	case mk.Away && m.Away:
		return msg.Errorf("媒体 %s はすでに院外保管中です", "medium %s is already off-site", mk.Medium)
	case !mk.Away && !m.Away:
		return msg.Errorf("媒体 %s は院外保管中ではありません", "medium %s is not off-site", mk.Medium)
	case mk.Away && len(st.Home(names)) <= 1:
		return msg.Errorf("媒体 %s を持ち出すと、書き込める媒体がなくなります。他の媒体を戻してから持ち出してください",
			"taking medium %s away would leave no medium to write: bring another back first", mk.Medium)
	}
	return nil
}

// homeForCycle is the cycle's view: the media it may write, each away
// medium's skip recorded (the ledger, hence the page) and the off-site
// alerts checked. A failure to read the marks leaves every medium in:
// a medium written that should not be is a mark away from right, a
// medium silently not written is not.
func (g *Gateway) homeForCycle(names []string) []string {
	now := time.Now()
	st, err := g.CheckOffsite(now)
	if err != nil {
		g.log.Error("off-site marks unreadable; writing every medium", "err", err)
		return names
	}
	for _, m := range st.Away() {
		e := ledger.Entry{Kind: ledger.KindOffsite, Medium: m.Name,
			Message: msg.Sprintf("媒体 %s は院外保管中のため、今回は書き込みません(戻す期限 %s)", "medium %s is off-site: not written this time (due back %s)",
				m.Name, dueWords(m.DueBack, when.Of(g.Config().TimeZone))),
			Payload: ledger.OffsiteData{Action: ledger.OffsiteSkipped, At: now, By: m.By, Due: m.DueBack}}
		if err := g.appendMark(context.Background(), e); err != nil {
			g.log.Error("off-site skip not recorded", "medium", m.Name, "err", err)
		}
	}
	return st.Home(names)
}

// homeMedia is names without the media kept off-site (all of them when
// the marks cannot be read).
func (g *Gateway) homeMedia(names []string) []string {
	st, err := g.Offsite(time.Now())
	if err != nil {
		return names
	}
	return st.Home(names)
}

// dueWords is a due date as the ledger says it.
func dueWords(due time.Time, z when.Zone) msg.Text {
	if due.IsZero() {
		return msg.T("スケジュールなし", "nothing scheduled")
	}
	return msg.Plain(z.Minute(due))
}

// CheckOffsite raises or clears the off-site alerts for the state at now
// and returns it.
func (g *Gateway) CheckOffsite(now time.Time) (offsite.State, error) {
	st, err := g.Offsite(now)
	if err != nil {
		return st, err
	}
	cfg := g.Config()
	z := when.Of(cfg.TimeZone)
	for _, m := range st.Media {
		a := alert.OffsiteOverdue(cfg.GatewayID, m.Name, now, m.Since, m.DueBack, z)
		if m.Overdue {
			g.send(a)
		} else if m.Portable {
			g.send(a.Resolve(now))
		}
	}
	lapsed := alert.OffsiteLapsed(cfg.GatewayID, now, st.AllHomeSince, st.AllHomeLimit, z)
	if st.Lapsed {
		g.send(lapsed)
	} else {
		g.send(lapsed.Resolve(now))
	}
	return st, nil
}

// appendMark stores an off-site entry and keeps it in memory.
func (g *Gateway) appendMark(ctx context.Context, e ledger.Entry) error {
	if e.Actor == "" {
		e.Actor = ledger.ActorSystem
	}
	if _, _, err := g.offsite.load(g.Config().LedgerDir); err != nil {
		return err
	}
	stored, err := g.ledger.Append(ctx, e)
	if err != nil {
		return msg.Wrap(err, "院外保管の記録を証跡台帳に書けません", "cannot write the off-site mark to the evidence ledger")
	}
	g.comm.note(stored)
	g.offsite.mu.Lock()
	g.offsite.marks = append(g.offsite.marks, stored)
	g.offsite.mu.Unlock()
	return nil
}

// load reads the marks and the first snapshot from the ledger once.
func (o *offsiteMarks) load(dir string) ([]ledger.Entry, time.Time, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.loaded {
		var marks []ledger.Entry
		var first time.Time
		for e, err := range ledger.Entries(dir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindOffsite, ledger.KindSnapshot}}) {
			if err != nil {
				return nil, time.Time{}, msg.Wrap(err, "院外保管の記録を読めません", "cannot read the off-site marks")
			}
			if e.Kind == ledger.KindOffsite {
				marks = append(marks, e)
			} else if first.IsZero() {
				first = e.Time
			}
		}
		o.marks, o.first, o.loaded = marks, first, true
	}
	return append([]ledger.Entry(nil), o.marks...), o.first, nil
}
