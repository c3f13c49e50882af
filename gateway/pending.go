package gateway

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/relay"
)

// A change that shortens what is kept (a keep lowered, fewer media per
// cycle, a medium removed, a shorter Object Lock minimum, a shorter
// waiting period) is the one change that destroys backups by itself: the
// next good night prunes. So it is held: the saved configuration keeps the
// longer values in force, the change waits in pending.json beside the
// configuration for Retention.Delay, is alerted at once and can be
// cancelled on the page. A change that lengthens applies at once.

// Shortening is one held change: Field is the setting ("retention.keep_last",
// "rotation.per_cycle", "media" for a removed medium,
// "media[].s3.min_retention_days", "retention.shorten_delay"), Medium the
// medium it concerns, Old and New the values as a person reads them.
type Shortening struct {
	Field  string `json:"field"`
	Medium string `json:"medium,omitempty"`
	Old    string `json:"old"`
	New    string `json:"new"`
	// Relay is the relay a removed medium's removal also removes.
	Relay string `json:"relay,omitempty"`
}

// Describe says the change in both languages.
func (s Shortening) Describe() msg.Text {
	if s.Field == "media" {
		return msg.Sprintf("媒体 %s を削除", "remove medium %s", s.Medium)
	}
	name := s.Field
	if s.Medium != "" {
		name = s.Medium + ": " + s.Field
	}
	return msg.Sprintf("%s を %s から %s に", "%s from %s to %s", name, s.Old, s.New)
}

// PendingChange is a held shortening: who asked, from where, when, and
// when it applies.
type PendingChange struct {
	ID        string       `json:"id"`
	Actor     string       `json:"actor"`
	From      string       `json:"from,omitempty"`
	Requested time.Time    `json:"requested"`
	Effective time.Time    `json:"effective"`
	Changes   []Shortening `json:"changes"`
	// Target holds the requested values of the changed settings.
	Target HeldValues `json:"target"`
}

// Summary lists the changes in both languages.
func (p PendingChange) Summary() msg.Text {
	var ja, en []string
	for _, c := range p.Changes {
		t := c.Describe()
		ja, en = append(ja, t.Localize(msg.JA)), append(en, t.Localize(msg.EN))
	}
	return msg.T(strings.Join(ja, "、"), strings.Join(en, ", "))
}

// HeldValues are the requested values a pending change applies.
type HeldValues struct {
	Retention    config.Retention `json:"retention"`
	PerCycle     int              `json:"per_cycle"`
	MinRetention map[string]int   `json:"min_retention_days,omitempty"`
}

// ErrNoPending: the pending change to cancel is not (or no longer) held.
var ErrNoPending = msg.New("その保留中の変更はありません(適用済みか取り消し済みです)", "no such pending change (it was applied or cancelled already)")

func (g *Gateway) now() time.Time {
	if g.opts.Now != nil {
		return g.opts.Now()
	}
	return time.Now()
}

func (g *Gateway) pendingPath() string {
	return filepath.Join(filepath.Dir(g.opts.ConfigPath), "pending.json")
}

// PendingChanges are the held shortenings, the soonest first.
func (g *Gateway) PendingChanges() ([]PendingChange, error) {
	if g.opts.ConfigPath == "" {
		return nil, nil
	}
	g.pending.Lock()
	defer g.pending.Unlock()
	return g.loadPending()
}

func (g *Gateway) loadPending() ([]PendingChange, error) {
	b, err := os.ReadFile(g.pendingPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, msg.Errorf("保留中の変更を読めません: %w", "cannot read the pending changes: %w", err)
	}
	var ps []PendingChange
	if err := json.Unmarshal(b, &ps); err != nil {
		return nil, msg.Errorf("保留中の変更のファイルが壊れています: %w", "the pending changes file is damaged: %w", err)
	}
	slices.SortFunc(ps, func(a, b PendingChange) int { return a.Effective.Compare(b.Effective) })
	return ps, nil
}

func (g *Gateway) savePending(ps []PendingChange) error {
	if ps == nil {
		ps = []PendingChange{}
	}
	b, err := json.MarshalIndent(ps, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(g.pendingPath(), b, 0o600); err != nil {
		return msg.Errorf("保留中の変更を保存できません: %w", "cannot save the pending changes: %w", err)
	}
	return nil
}

// holdShortening returns what applies now of req, changed from old: req
// with every shortening replaced by old's longer value, and the
// shortenings held.
func holdShortening(old, req *config.Config) (*config.Config, []Shortening, error) {
	eff, err := cloneConfig(req)
	if err != nil {
		return nil, nil, err
	}
	var held []Shortening
	keep := func(field string, o, n *int) {
		if *n < *o {
			held = append(held, Shortening{Field: field, Old: strconv.Itoa(*o), New: strconv.Itoa(*n)})
			*n = *o
		}
	}
	r := &eff.Retention
	keep("retention.keep_last", &old.Retention.KeepLast, &r.KeepLast)
	keep("retention.keep_daily", &old.Retention.KeepDaily, &r.KeepDaily)
	keep("retention.keep_weekly", &old.Retention.KeepWeekly, &r.KeepWeekly)
	keep("retention.keep_monthly", &old.Retention.KeepMonthly, &r.KeepMonthly)
	if od, nd := old.Retention.Delay(), r.Delay(); nd < od {
		held = append(held, Shortening{Field: "retention.shorten_delay", Old: config.Duration(od).Words().String(), New: config.Duration(nd).Words().String()})
		r.ShortenDelay = old.Retention.ShortenDelay
	}
	if writesLessOften(old, req) {
		held = append(held, Shortening{Field: "rotation.per_cycle", Old: strconv.Itoa(old.Rotation.PerCycle), New: strconv.Itoa(req.Rotation.PerCycle)})
		eff.Rotation = old.Rotation
	}
	for _, m := range old.Media {
		n, err := eff.Medium(m.Name)
		if err != nil {
			held = append(held, Shortening{Field: "media", Medium: m.Name, Relay: keepMedium(old, eff, m)})
			continue
		}
		if m.S3 != nil && n.S3 != nil && n.S3.MinRetentionDays < m.S3.MinRetentionDays {
			held = append(held, Shortening{Field: "media[].s3.min_retention_days", Medium: m.Name,
				Old: strconv.Itoa(m.S3.MinRetentionDays), New: strconv.Itoa(n.S3.MinRetentionDays)})
			n.S3.MinRetentionDays = m.S3.MinRetentionDays
		}
	}
	return eff, held, nil
}

// writesLessOften: req writes each medium less often than old (fewer media
// per cycle; 0 writes all, every cycle).
func writesLessOften(old, req *config.Config) bool {
	per := func(c *config.Config) int {
		if c.Rotation.PerCycle == 0 {
			return len(c.Media)
		}
		return c.Rotation.PerCycle
	}
	return req.Rotation.PerCycle != 0 && per(req) < per(old)
}

// keepMedium puts a removed medium back into eff, with its relay when eff
// lost that too; it returns that relay's name.
func keepMedium(old, eff *config.Config, m config.Medium) string {
	eff.Media = append(eff.Media, m)
	if m.Relay == "" || slices.ContainsFunc(eff.Relays, func(r relay.Spec) bool { return r.Name == m.Relay }) {
		return ""
	}
	if i := slices.IndexFunc(old.Relays, func(r relay.Spec) bool { return r.Name == m.Relay }); i >= 0 {
		eff.Relays = append(eff.Relays, old.Relays[i])
		return m.Relay
	}
	return ""
}

// heldTarget is what a pending change applies when it comes due.
func heldTarget(req *config.Config, held []Shortening) HeldValues {
	h := HeldValues{Retention: req.Retention, PerCycle: req.Rotation.PerCycle}
	for _, s := range held {
		if s.Field == "media[].s3.min_retention_days" {
			if m, err := req.Medium(s.Medium); err == nil && m.S3 != nil {
				if h.MinRetention == nil {
					h.MinRetention = map[string]int{}
				}
				h.MinRetention[s.Medium] = m.S3.MinRetentionDays
			}
		}
	}
	return h
}

// applyHeld returns cur with p's shortenings applied.
func applyHeld(cur *config.Config, p PendingChange) (*config.Config, error) {
	next, err := cloneConfig(cur)
	if err != nil {
		return nil, err
	}
	t, r := p.Target, &next.Retention
	for _, s := range p.Changes {
		switch s.Field {
		case "retention.keep_last":
			r.KeepLast = t.Retention.KeepLast
		case "retention.keep_daily":
			r.KeepDaily = t.Retention.KeepDaily
		case "retention.keep_weekly":
			r.KeepWeekly = t.Retention.KeepWeekly
		case "retention.keep_monthly":
			r.KeepMonthly = t.Retention.KeepMonthly
		case "retention.shorten_delay":
			r.ShortenDelay = t.Retention.ShortenDelay
		case "rotation.per_cycle":
			next.Rotation.PerCycle = t.PerCycle
		case "media":
			next.Media = slices.DeleteFunc(next.Media, func(m config.Medium) bool { return m.Name == s.Medium })
			if s.Relay != "" && !slices.ContainsFunc(next.Media, func(m config.Medium) bool { return m.Relay == s.Relay }) {
				next.Relays = slices.DeleteFunc(next.Relays, func(r relay.Spec) bool { return r.Name == s.Relay })
			}
			if next.Rotation.PerCycle > len(next.Media) {
				next.Rotation.PerCycle = len(next.Media)
			}
		case "media[].s3.min_retention_days":
			if m, err := next.Medium(s.Medium); err == nil && m.S3 != nil {
				m.S3.MinRetentionDays = t.MinRetention[s.Medium]
			}
		}
	}
	return next, nil
}

// hold stores the shortenings of a change asked by actor (from ctx's
// origin) as a pending change, records and alerts it. The caller holds
// the job lock and has not applied anything yet: a change that cannot be
// held is refused whole.
func (g *Gateway) hold(ctx context.Context, actor string, old, req *config.Config, held []Shortening) (PendingChange, error) {
	id := make([]byte, 6)
	_, _ = rand.Read(id) // crypto/rand never fails (Go 1.24+)
	now := g.now()
	p := PendingChange{ID: hex.EncodeToString(id), Actor: actor, From: ledger.Origin(ctx), Requested: now,
		Effective: now.Add(old.Retention.Delay()), Changes: held, Target: heldTarget(req, held)}
	g.pending.Lock()
	defer g.pending.Unlock()
	ps, err := g.loadPending()
	if err != nil {
		return p, err
	}
	if err := g.savePending(append(ps, p)); err != nil {
		return p, err
	}
	return p, nil
}

// announce records and alerts a held change once it is in force.
func (g *Gateway) announce(p PendingChange) {
	sum := p.Summary()
	g.record(ledger.Entry{Kind: ledger.KindGuarded, Actor: p.Actor,
		Message: msg.Sprintf("保持を減らす変更を待機中(%s に適用): %s", "a change that keeps less is held until %s: %s", p.Effective.Format(time.RFC3339), sum),
		Payload: ledger.GuardedData{Op: "shorten.pending", From: p.From, Changes: fields(p.Changes), ID: p.ID, Effective: p.Effective}})
	g.send(alert.ShortenPending(g.Config().GatewayID, p.Requested, p.Actor, cmp.Or(p.From, "-"), sum, p.Effective))
}

func fields(ss []Shortening) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.Describe().Localize(msg.EN))
	}
	return out
}

// unhold drops the pending change id (false: not held).
func (g *Gateway) unhold(id string) (PendingChange, bool, error) {
	g.pending.Lock()
	defer g.pending.Unlock()
	ps, err := g.loadPending()
	if err != nil {
		return PendingChange{}, false, err
	}
	i := slices.IndexFunc(ps, func(p PendingChange) bool { return p.ID == id })
	if i < 0 {
		return PendingChange{}, false, nil
	}
	p := ps[i]
	return p, true, g.savePending(slices.Delete(ps, i, i+1))
}

// CancelPending cancels the held change id, recorded with who and from
// where (ctx's origin). The page asks the password again first.
func (g *Gateway) CancelPending(ctx context.Context, actor, id string) error {
	if g.opts.ConfigPath == "" {
		return ErrNoConfigFile
	}
	p, ok, err := g.unhold(id)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNoPending
	}
	g.record(ledger.Entry{Kind: ledger.KindGuarded, Actor: actor,
		Message: msg.Sprintf("保持を減らす変更を取り消し: %s", "cancelled a change that keeps less: %s", p.Summary()),
		Payload: ledger.GuardedData{Op: "shorten.cancelled", From: ledger.Origin(ctx), Changes: fields(p.Changes), ID: p.ID, Effective: p.Effective}})
	return nil
}

// ApplyDuePending applies every held change whose time has come at now,
// in order, each recorded. A change that cannot be applied now (a job
// runs) stays held for the next try; one that no longer fits the
// configuration is dropped, recorded and alerted.
func (g *Gateway) ApplyDuePending(ctx context.Context, now time.Time) error {
	if g.opts.ConfigPath == "" {
		return nil
	}
	ps, err := g.PendingChanges()
	if err != nil {
		return err
	}
	for _, p := range ps {
		if now.Before(p.Effective) {
			break
		}
		if err := g.applyPending(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (g *Gateway) applyPending(ctx context.Context, p PendingChange) error {
	if !g.job.TryLock() {
		return ErrBusy
	}
	defer g.job.Unlock()
	// Taken out first: a change applied must not apply twice.
	if _, ok, err := g.unhold(p.ID); err != nil || !ok {
		return err
	}
	data := ledger.GuardedData{Op: "shorten.applied", From: p.From, Changes: fields(p.Changes), ID: p.ID, Effective: p.Effective}
	old := g.Config()
	next, err := applyHeld(old, p)
	if err == nil {
		err = next.ValidateChange(old)
	}
	if err == nil {
		err = g.apply(ctx, p.Actor, old, next, changedFields(old, next))
	}
	if err != nil {
		data.Op = "shorten.failed"
		why := msg.Errorf("待機していた変更を適用できませんでした(今の設定のまま動作しています): %w", "the held change could not be applied (the current settings stay in force): %w", err)
		g.record(ledger.Entry{Kind: ledger.KindGuarded, Actor: p.Actor, Message: msg.TextOf(why), Payload: data})
		g.send(alert.ShortenFailed(old.GatewayID, g.now(), msg.TextOf(why)))
		return nil
	}
	g.record(ledger.Entry{Kind: ledger.KindGuarded, Actor: p.Actor,
		Message: msg.Sprintf("待機期間が過ぎたため、保持を減らす変更を適用: %s", "the waiting period ended: applied the change that keeps less: %s", p.Summary()),
		Payload: data})
	return nil
}

// pendingPoll is how often RunPending looks for a change that came due.
const pendingPoll = time.Minute

// RunPending applies held changes as they come due, until ctx ends.
func (g *Gateway) RunPending(ctx context.Context, clock Clock) error {
	if clock == nil {
		clock = realClock{}
	}
	for {
		if err := g.ApplyDuePending(ctx, clock.Now()); err != nil && !errors.Is(err, ErrBusy) {
			g.log.Error("applying a held change", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-clock.After(pendingPoll):
		}
	}
}
