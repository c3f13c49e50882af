package gateway

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// A new gateway is commissioned from its page, step by step; each step
// done (or redone) is recorded in the ledger as a ledger.KindCommission
// entry, and a step is done when its latest entry says OK. Whoever does a
// step writes that entry (the network step is written by the network
// code), so the list below only reads them.

// Commissioning steps, as ledger.CommissionData.Step names them.
const (
	StepNetwork    = "network"
	StepSource     = "source"
	StepRelay      = "relay"
	StepMedium     = "medium"
	StepAlerts     = "alerts"
	StepFirstCycle = "first-cycle"
)

// CommissionStep is one step of commissioning as it stands now.
type CommissionStep struct {
	Step string
	// Item is the source, relay or medium the step is about; "" for a
	// step about the whole gateway, and for "add the first one" when the
	// configuration has none yet.
	Item string
	// Done: the step's latest entry says OK.
	Done bool
	// Skipped: the step was skipped rather than done (the alerts step of
	// a gateway with no alert channel); it counts as done while no
	// channel is configured.
	Skipped bool
	// Last is the step's latest entry (nil: never done) and Data its data.
	Last *ledger.Entry
	Data ledger.CommissionData
}

// CommissionSteps lists every step of commissioning for the configuration
// in use, in the order the page walks them: network and time, each source,
// each relay, each medium, alerts, the first cycle.
func (g *Gateway) CommissionSteps() ([]CommissionStep, error) {
	cfg := g.Config()
	latest, err := g.comm.entries(cfg.LedgerDir)
	if err != nil {
		return nil, err
	}
	var out []CommissionStep
	for _, k := range commissionItems(cfg) {
		st := CommissionStep{Step: k.step, Item: k.item}
		if e, ok := latest[k]; ok {
			st.Last = &e
			st.Data, _ = ledger.Decode[ledger.CommissionData](e) // a payload that does not decode is not done
			st.Skipped = skippedStep(st.Data)
			st.Done = st.Data.OK && !(st.Skipped && alertsConfigured(cfg)) // a channel added since is to be tested
		}
		out = append(out, st)
	}
	return out, nil
}

// Commissioned reports whether every step is done.
func Commissioned(steps []CommissionStep) bool {
	return !slices.ContainsFunc(steps, func(s CommissionStep) bool { return !s.Done })
}

type stepKey struct{ step, item string }

// commissionItems are the steps cfg calls for. A gateway needs a source
// and a medium; it needs a relay unless every medium is offline by
// immutability (an S3 bucket without an uplink relay).
func commissionItems(cfg *config.Config) []stepKey {
	out := []stepKey{{step: StepNetwork}}
	add := func(step string, names []string) {
		if len(names) == 0 {
			names = []string{""}
		}
		for _, n := range names {
			out = append(out, stepKey{step, n})
		}
	}
	var sources, relays, media []string
	needRelay := len(cfg.Media) == 0
	for _, s := range cfg.Sources {
		sources = append(sources, s.Name)
	}
	for _, r := range cfg.Relays {
		relays = append(relays, r.Name)
	}
	for _, m := range cfg.Media {
		media = append(media, m.Name)
		if t, ok := MediumTypeOf(m.Type); !ok || !t.Immutable {
			needRelay = true
		}
	}
	add(StepSource, sources)
	if len(relays) > 0 || needRelay {
		add(StepRelay, relays)
	}
	add(StepMedium, media)
	return append(out, stepKey{step: StepAlerts}, stepKey{step: StepFirstCycle})
}

// commission is the gateway's memory of commissioning: the latest entry
// of each step (read from the ledger once, then kept as entries are
// recorded) and the latest job the page started for each step.
type commission struct {
	mu     sync.Mutex
	loaded bool
	latest map[stepKey]ledger.Entry
	jobs   map[stepKey]*CommissionJob
}

// entries returns the latest entry of each step, reading the ledger the
// first time only.
func (c *commission) entries(ledgerDir string) (map[stepKey]ledger.Entry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		// Read under the lock: an entry recorded meanwhile is noted after
		// it, so it is neither lost nor older than what the read found.
		es, err := ledger.Read(ledgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindCommission}})
		if err != nil {
			return nil, msg.Wrap(err, "試運転の記録を証跡台帳から読めません", "cannot read the commissioning records from the ledger")
		}
		c.latest, c.loaded = map[stepKey]ledger.Entry{}, true
		for _, e := range es {
			c.noteLocked(e)
		}
	}
	out := make(map[stepKey]ledger.Entry, len(c.latest))
	for k, e := range c.latest {
		out[k] = e
	}
	return out, nil
}

// note keeps e if it is a commissioning entry newer than the one known.
func (c *commission) note(e ledger.Entry) {
	if e.Kind != ledger.KindCommission {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded { // else the first read finds it
		c.noteLocked(e)
	}
}

func (c *commission) noteLocked(e ledger.Entry) {
	d, err := ledger.Decode[ledger.CommissionData](e)
	if err != nil {
		return
	}
	k := stepKey{d.Step, d.Item}
	if old, ok := c.latest[k]; !ok || e.Seq > old.Seq {
		c.latest[k] = e
	}
}

// recordCommission records that actor did (ok) or tried a step.
func (g *Gateway) recordCommission(actor string, d ledger.CommissionData, text msg.Text) {
	g.record(ledger.Entry{Kind: ledger.KindCommission, Actor: actor, Message: text, Payload: d})
}

// JobState is how far a step of a commissioning job got.
type JobState string

const (
	JobRunning JobState = "running"
	JobOK      JobState = "ok"
	JobFailed  JobState = "failed"
	JobSkipped JobState = "skipped" // not applicable, with the reason
)

// JobStep is one step of a commissioning job, as it happened.
type JobStep struct {
	ID    string
	State JobState
	Text  msg.Text
	At    time.Time
}

// CommissionJob is a job the page started for a step (a relay's wiring
// test, a medium's preparation, the first cycle), as far as it has got.
// The gateway keeps the latest one of each step in memory for the page.
type CommissionJob struct {
	Step, Item, Actor string
	Started, Finished time.Time
	Steps             []JobStep
	// Err is why the job failed; zero when it did not (yet).
	Err msg.Text
	// Wiring is what a wiring test found.
	Wiring *WiringResult
}

// Running reports whether the job has not finished yet.
func (j CommissionJob) Running() bool { return j.Finished.IsZero() }

// CommissionJob returns the latest job of the step about item.
func (g *Gateway) CommissionJob(step, item string) (CommissionJob, bool) {
	g.comm.mu.Lock()
	defer g.comm.mu.Unlock()
	j, ok := g.comm.jobs[stepKey{step, item}]
	if !ok {
		return CommissionJob{}, false
	}
	out := *j
	out.Steps = slices.Clone(j.Steps)
	if j.Wiring != nil {
		w := *j.Wiring
		w.Appeared = slices.Clone(w.Appeared)
		out.Wiring = &w
	}
	return out, true
}

// jobRun is a running commissioning job; its steps reach the page through
// CommissionJob, and the dashboard's live view through the event hub.
type jobRun struct {
	g   *Gateway
	key stepKey
	// quiet: the job's session publishes its own events to the hub.
	quiet bool
	// perMedium: the job goes through the same phases for each medium (a
	// cycle), so each of its steps is one medium's phase, "medium/phase".
	perMedium bool
}

// beginJob starts the record of a job for step and item, replacing the
// previous one. The caller holds the job lock.
func (g *Gateway) beginJob(step, item, actor string) *jobRun {
	g.comm.mu.Lock()
	defer g.comm.mu.Unlock()
	if g.comm.jobs == nil {
		g.comm.jobs = map[stepKey]*CommissionJob{}
	}
	k := stepKey{step, item}
	g.comm.jobs[k] = &CommissionJob{Step: step, Item: item, Actor: actor, Started: time.Now()}
	return &jobRun{g: g, key: k}
}

// update changes the job under the lock.
func (j *jobRun) update(f func(*CommissionJob)) {
	j.g.comm.mu.Lock()
	defer j.g.comm.mu.Unlock()
	f(j.g.comm.jobs[j.key])
}

// step sets the state of the job's step id (adding it when new) and shows
// it on the dashboard's live view.
func (j *jobRun) step(id string, state JobState, text msg.Text) {
	j.update(func(job *CommissionJob) {
		s := JobStep{ID: id, State: state, Text: text, At: time.Now()}
		if i := slices.IndexFunc(job.Steps, func(x JobStep) bool { return x.ID == id }); i >= 0 {
			job.Steps[i] = s
		} else {
			job.Steps = append(job.Steps, s)
		}
	})
	if !j.quiet {
		j.g.events.publish(backup.CycleEvent{Time: time.Now(), Phase: j.key.step, Medium: j.key.item, Text: text})
	}
}

// finish ends the job; err is why it failed, nil when it did not.
func (j *jobRun) finish(err error) {
	j.update(func(job *CommissionJob) {
		job.Finished = time.Now()
		if err != nil {
			job.Err = msg.TextOf(err)
		}
		for i := range job.Steps {
			if job.Steps[i].State != JobRunning {
				continue
			}
			if err != nil {
				job.Steps[i].State = JobFailed // a step the failure cut short
				continue
			}
			job.Steps[i].State, job.Steps[i].Text = JobOK, phaseDone() // the last phase, which ended with the job
		}
	})
}

// phases turns a session's cycle events into the job's steps: each new
// phase is a step that runs until the next one starts.
func (j *jobRun) phases() func(backup.CycleEvent) {
	last := ""
	return func(ev backup.CycleEvent) {
		id := ev.Phase
		if j.perMedium && ev.Medium != "" {
			id = ev.Medium + "/" + ev.Phase
		}
		if id == last || ev.Phase == "" {
			return
		}
		if last != "" {
			j.step(last, JobOK, phaseDone())
		}
		last = id
		j.step(id, JobRunning, ev.Text)
	}
}

// phaseDone marks a finished phase; a failed one is told by the job's end.
func phaseDone() msg.Text { return msg.T("完了", "done") }

// StartFirstCycle runs the first cycle in the background: it writes every
// medium (not only those due by rotation), so each one holds a snapshot
// and has been cut once with proof. The page follows it through the live
// stream and CommissionJob (each medium's phases). Its end is recorded as
// the step "first-cycle", done when every source was pulled and every
// medium written. It refuses at once if another job is running.
func (g *Gateway) StartFirstCycle(ctx context.Context, actor string) error {
	if !g.job.TryLock() {
		return ErrBusy
	}
	g.record(ledger.Entry{Kind: ledger.KindJobStart, Actor: actor, Message: msg.T("最初のサイクルを開始(試運転)", "first cycle started (commissioning)")})
	job := g.beginJob(StepFirstCycle, "", actor)
	job.quiet, job.perMedium = true, true // the cycle publishes its own events
	g.setBusy(true)                       // running from now, for the page that follows
	go func() {
		defer g.job.Unlock()
		var names []string
		for _, m := range g.Config().Media {
			names = append(names, m.Name)
		}
		rep, err := g.runTargetsLocked(context.WithoutCancel(ctx), names, job.phases())
		d := g.recordFirstCycle(actor, rep, err)
		var failed error
		if !d.OK {
			failed = d.Detail.Err()
		}
		job.finish(failed)
	}()
	return nil
}

// recordFirstCycle records the first cycle's end: each medium's outcome in
// the detail, done when it pulled and wrote everything. A medium whose cut
// is not verified (a simulated relay) is written but said NOT offline.
func (g *Gateway) recordFirstCycle(actor string, rep *backup.CycleReport, err error) ledger.CommissionData {
	d := ledger.CommissionData{Step: StepFirstCycle, OK: err == nil && rep != nil && rep.PullErr == nil && len(rep.Media) > 0}
	if rep != nil {
		d.Detail = msg.Sprintf("サイクル %s", "cycle %s", rep.ID)
		for _, m := range rep.Media {
			line := msg.Sprintf("%s: スナップショット %d 件", "%s: %d snapshots", m.Name, len(m.Snapshots))
			switch {
			case m.Err != nil:
				d.OK = false
				line = msg.Sprintf("%s: 失敗: %s", "%s: FAILED: %s", m.Name, msg.TextOf(m.Err))
			case !m.CutVerified:
				line = line.Append("、", msg.Sprintf("切断を確認できません(オフラインではありません): %s", "cut NOT verified (not offline): %s", m.CutReason))
			default:
				line = line.Append("、", msg.T("切断を確認", "cut verified"))
			}
			d.Detail = d.Detail.Append("; ", line)
		}
	}
	if err != nil {
		d.Detail = d.Detail.Append("; ", msg.TextOf(err))
		g.log.Error("first cycle", "err", err)
	}
	text := msg.T("試運転: 最初のサイクルが完了", "commissioning: the first cycle completed")
	if !d.OK {
		text = msg.T("試運転: 最初のサイクルが完了しませんでした", "commissioning: the first cycle did not complete")
	}
	g.recordCommission(actor, d, text)
	return d
}
