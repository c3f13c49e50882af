package web

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/bytesize"
	"github.com/danzen-gw/danzen/internal/when"

	"github.com/danzen-gw/danzen/auth"
	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// restorer is what the restore page needs from the core.
type restorer interface {
	Snapshots(medium string) ([]gateway.SnapshotRecord, error)
	StartRestore(ctx context.Context, o gateway.RestoreOptions) error
	StartDrill(ctx context.Context, medium, actor string) error
	Drills() ([]ledger.RestoreData, error)
	Restores() ([]ledger.RestoreData, error)
	KeptRestores() ([]gateway.KeptRestore, error)
	RestoredFile(id, rel string) (string, error)
	RemoveRestore(ctx context.Context, id, actor string) error
}

// Limits of what the restore page lists.
const (
	maxRecords  = 100 // drill and restore records, newest first
	maxSuggests = 300 // file paths suggested per source
)

// deadlineLayout is an <input type="datetime-local"> value.
const deadlineLayout = "2006-01-02T15:04"

type restoreBody struct {
	Error      msg.Text
	Media      []restoreMedium
	Targets    []string
	Zone       string
	Window     msg.Text
	Paths      []sourcePaths
	DrillMedia []optionView
	DrillError msg.Text
	Interlock  msg.Text // the timer in the coils' supply, now (interlock.go)
	Drills     []recordRow
	Restores   []recordRow
	Kept       []keptRow
	KeptError  msg.Text
	RecordsErr msg.Text
	CanRestore bool
	CanDrill   bool
	Live       progress
}

// restoreMedium is one medium: its snapshots and its restore form.
type restoreMedium struct {
	Name      string
	Snapshots []snapshotRow
	Error     msg.Text // listing the snapshots failed
	Form      restoreForm
	FormError msg.Text // the last request was refused
}

type snapshotRow struct {
	ID, Short, Time, Source, Size string
	Files                         int
	Checked                       bool
}

// restoreForm is what the operator typed, re-shown after a refusal.
type restoreForm struct {
	Medium, Snapshot, Files, Dest, Target, Dir, Deadline string
}

type sourcePaths struct {
	Source string
	Paths  []string
	More   int // paths not listed
}

// recordRow is one drill or restore record (the 訓練記録 for drills).
type recordRow struct {
	ID, Started, Medium, Snapshot, Dest, Verified, Bytes string
	Damaged, Actor                                       string
	FirstByte, RTO, Check, Result, Cut                   msg.Text
	OK, CheckOK, CutOK                                   bool
}

type keptRow struct {
	ID, Started, Medium, Snapshot, Actor string
	Files                                []keptFile
}

type keptFile struct {
	Path, Size, Href string
}

func (s *Server) restorePage(w http.ResponseWriter, r *http.Request) {
	s.renderRestore(w, r, restoreForm{}, nil, nil)
}

// renderRestore shows the page; form and formErr re-show a refused
// restore request beside its medium's form, drillErr a refused drill.
func (s *Server) renderRestore(w http.ResponseWriter, r *http.Request, form restoreForm, formErr, drillErr error) {
	cfg := s.core.Config()
	z := when.Of(cfg.TimeZone)
	rl := role(r)
	b := restoreBody{CanRestore: auth.Allowed(rl, auth.PowerForRestore), CanDrill: auth.Allowed(rl, auth.StartDrill),
		Zone: cfg.TimeZone, Window: humanDuration(cfg.Restore.Window.Std()), DrillError: msg.TextOf(drillErr), Interlock: interlockNotice(cfg, time.Now())}
	for _, t := range cfg.Restore.Targets {
		b.Targets = append(b.Targets, t.Name)
	}
	def := restoreForm{Dest: "gateway", Deadline: z.Time(time.Now().Add(cfg.Restore.Window.Std())).Format(deadlineLayout)}
	b.DrillMedia = []optionView{{Value: "", Label: msg.T("自動: 最も長く訓練していない媒体", "automatic: the medium drilled longest ago")}}
	for _, m := range cfg.Media {
		rm := s.restoreMedium(m.Name, def)
		if form.Medium == m.Name {
			rm.Form, rm.FormError, formErr = form, msg.TextOf(formErr), nil
			rm.Form.Medium = m.Name
			checkSnapshot(rm.Snapshots, form.Snapshot)
		}
		b.Media = append(b.Media, rm)
		b.DrillMedia = append(b.DrillMedia, optionView{Value: m.Name, Label: msg.Plain(m.Name)})
	}
	b.Error = msg.TextOf(formErr) // a request for no configured medium
	drills, err := s.core.Drills()
	b.Drills = recordRows(drills, z)
	restores, rerr := s.core.Restores()
	b.Restores = recordRows(restores, z)
	b.RecordsErr = msg.TextOf(errors.Join(err, rerr))
	// File names of an e-chart export can name patients: only those who
	// may restore see them.
	if b.CanRestore {
		b.Paths = stagedPaths(cfg)
		kept, err := s.core.KeptRestores()
		b.KeptError = msg.TextOf(err)
		b.Kept = keptRows(kept, z)
	}
	running, last := s.core.Running()
	b.Live = progressOf(running, last)
	flash, bad := flashOf(r)
	s.render(w, r, http.StatusOK, "restore.html", "/restore", msg.T("復元と復元訓練", "Restore and drills"), flash, bad, b)
}

// restoreMedium is a medium's snapshots (the newest chosen) and its
// restore form filled with form.
func (s *Server) restoreMedium(name string, form restoreForm) restoreMedium {
	rm := restoreMedium{Name: name, Form: form}
	rm.Form.Medium = name
	snaps, err := s.core.Snapshots(name)
	rm.Error = msg.TextOf(err)
	z := s.zone()
	for i, sn := range snaps {
		rm.Snapshots = append(rm.Snapshots, snapshotRow{ID: sn.ID, Short: short(sn.ID), Time: z.Stamp(sn.Time), Source: sn.Source,
			Files: sn.Files, Size: bytesize.Format(sn.Bytes), Checked: i == 0})
	}
	return rm
}

// checkSnapshot chooses the snapshot a refused form had chosen.
func checkSnapshot(rows []snapshotRow, id string) {
	if id == "" {
		return
	}
	for i := range rows {
		rows[i].Checked = rows[i].ID == id
	}
}

// stagedPaths suggests file paths from each source's current staging
// manifest (the latest pull; older snapshots may differ).
func stagedPaths(cfg *config.Config) []sourcePaths {
	var out []sourcePaths
	for _, src := range cfg.Sources {
		m, err := pull.LoadManifest(cfg.StagingDir, src.Name)
		if err != nil || m == nil {
			continue
		}
		sp := sourcePaths{Source: src.Name}
		for _, f := range m.Files {
			if len(sp.Paths) == maxSuggests {
				sp.More = len(m.Files) - maxSuggests
				break
			}
			sp.Paths = append(sp.Paths, f.Path)
		}
		out = append(out, sp)
	}
	return out
}

// msText is a measured duration: tenths of a second when short, since a
// drill's time to first byte is often seconds.
func msText(ms int64) msg.Text {
	d := time.Duration(ms) * time.Millisecond
	if d < time.Minute {
		return msg.Sprintf("%.1f秒", "%.1fs", d.Seconds())
	}
	return humanDuration(d)
}

func recordRows(recs []ledger.RestoreData, z when.Zone) []recordRow {
	var out []recordRow
	for i := len(recs) - 1; i >= 0 && len(out) < maxRecords; i-- {
		out = append(out, recordRowOf(recs[i], z))
	}
	return out
}

func recordRowOf(d ledger.RestoreData, z when.Zone) recordRow {
	none := msg.Plain("—")
	row := recordRow{ID: d.ID, Started: z.Stamp(d.Started), Medium: d.Medium, Dest: d.Dest, Actor: d.Actor,
		Verified: fmt.Sprintf("%d / %d", d.FilesVerified, d.Files), Bytes: bytesize.Format(d.Bytes),
		FirstByte: none, RTO: none, Check: none, Damaged: strings.Join(d.Damaged, ", "),
		OK: d.OK, CheckOK: d.CheckOK, CutOK: d.CutVerified}
	if d.Snapshot != "" {
		row.Snapshot = fmt.Sprintf("%s (%s, %s)", short(d.Snapshot), d.Source, z.Stamp(d.SnapTime))
	}
	if d.FirstByteMS > 0 {
		row.FirstByte = msText(d.FirstByteMS)
	}
	if d.OK && d.RestoreMS > 0 {
		row.RTO = msText(d.RestoreMS)
	}
	if d.CheckRan {
		row.Check = msg.T("正常", "OK")
		if !d.CheckOK {
			row.Check = msg.T("異常", "FAILED")
		}
	}
	row.Result = msg.T("成功", "succeeded")
	if !d.OK {
		row.Result = msg.Sprintf("失敗: %s", "FAILED: %s", d.Error)
	}
	row.Cut = msg.T("切断を確認", "cut verified")
	if !d.CutVerified {
		row.Cut = msg.T("切断を確認できません", "cut NOT verified")
	}
	return row
}

func keptRows(kept []gateway.KeptRestore, z when.Zone) []keptRow {
	var out []keptRow
	for _, k := range kept {
		row := keptRow{ID: k.ID, Started: z.Stamp(k.Started), Medium: k.Medium, Snapshot: short(k.Snapshot), Actor: k.Actor}
		for _, f := range k.Files {
			row.Files = append(row.Files, keptFile{Path: f.Path, Size: bytesize.Format(f.Size),
				Href: "/restores/" + url.PathEscape(k.ID) + "/file?" + url.Values{"path": {f.Path}}.Encode()})
		}
		out = append(out, row)
	}
	return out
}

// lastDrill is the dashboard's line on the newest drill.
func lastDrill(drills []ledger.RestoreData, z when.Zone) *lastCycle {
	if len(drills) == 0 {
		return nil
	}
	row := recordRowOf(drills[len(drills)-1], z)
	return &lastCycle{OK: row.OK, Time: row.Started, Text: msg.Sprintf("%s — %s, RTO %s", "%s — %s, RTO %s", row.Result, row.Medium, row.RTO)}
}

// restoreFormOf reads a submitted restore form.
func restoreFormOf(r *http.Request) restoreForm {
	v := r.PostFormValue
	return restoreForm{Medium: v("medium"), Snapshot: v("snapshot"), Files: v("files"), Dest: v("dest"),
		Target: v("target"), Dir: strings.TrimSpace(v("dir")), Deadline: v("deadline")}
}

// options turns the form into the gateway's request; the gateway checks
// the rest (medium, target, deadline in the future) before powering.
func (f restoreForm) options(cfg *config.Config, actor string) (gateway.RestoreOptions, error) {
	o := gateway.RestoreOptions{Medium: f.Medium, Snapshot: f.Snapshot, Actor: actor}
	for _, line := range strings.Split(f.Files, "\n") {
		// Paths as the manifest lists them; a pasted leading "/" is fine.
		if p := strings.TrimLeft(strings.TrimSpace(line), "/"); p != "" {
			o.Files = append(o.Files, p)
		}
	}
	switch f.Dest {
	case "gateway":
	case "target":
		o.Target, o.TargetDir = f.Target, f.Dir
		if o.Target == "" {
			return o, msg.New("書き戻し先を選んでください", "choose a restore target")
		}
	default:
		return o, msg.New("復元先を選んでください", "choose where to restore to")
	}
	if f.Deadline != "" {
		var err error
		for _, layout := range []string{deadlineLayout, deadlineLayout + ":05"} {
			if o.Deadline, err = time.ParseInLocation(layout, f.Deadline, when.Of(cfg.TimeZone).Location()); err == nil {
				break
			}
		}
		if err != nil {
			return o, msg.New("切断期限の日時を読めません", "cannot read the deadline's date and time")
		}
	}
	return o, nil
}

// startRestore is the restore form: power the medium on for this restore
// only, cut at the deadline at the latest.
func (s *Server) startRestore(w http.ResponseWriter, r *http.Request) {
	f := restoreFormOf(r)
	o, err := f.options(s.core.Config(), actor(r))
	if err == nil {
		err = s.core.StartRestore(r.Context(), o)
	}
	switch {
	case errors.Is(err, gateway.ErrBusy):
		http.Redirect(w, r, "/restore?err=busy", http.StatusSeeOther)
	case err != nil:
		s.renderRestore(w, r, f, err, nil)
	default:
		http.Redirect(w, r, "/restore?done=restore", http.StatusSeeOther)
	}
}

// startDrill is the "start drill" button, allowed to hospital staff.
func (s *Server) startDrill(w http.ResponseWriter, r *http.Request) {
	err := s.core.StartDrill(r.Context(), r.PostFormValue("medium"), actor(r))
	switch {
	case errors.Is(err, gateway.ErrBusy):
		http.Redirect(w, r, "/restore?err=busy", http.StatusSeeOther)
	case err != nil:
		s.renderRestore(w, r, restoreForm{}, nil, err)
	default:
		http.Redirect(w, r, "/restore?done=drill", http.StatusSeeOther)
	}
}

// removeRestore deletes a kept restore's files from the gateway.
func (s *Server) removeRestore(w http.ResponseWriter, r *http.Request) {
	if err := s.core.RemoveRestore(r.Context(), r.PathValue("id"), actor(r)); err != nil {
		s.failure(w, r, http.StatusBadRequest, err, "/restore")
		return
	}
	http.Redirect(w, r, "/restore?done=removed", http.StatusSeeOther)
}

// restoredFile downloads one verified file of a kept restore. The
// gateway refuses any path that leaves the restore.
func (s *Server) restoredFile(w http.ResponseWriter, r *http.Request) {
	id, rel := r.PathValue("id"), r.URL.Query().Get("path")
	p, err := s.core.RestoredFile(id, rel)
	if err != nil {
		s.failure(w, r, http.StatusNotFound, err, "/restore")
		return
	}
	f, err := os.Open(p)
	if err != nil {
		s.failure(w, r, http.StatusNotFound, err, "/restore")
		return
	}
	defer func() { _ = f.Close() }() // read-only
	fi, err := f.Stat()
	if err != nil {
		s.failure(w, r, http.StatusInternalServerError, err, "/restore")
		return
	}
	if r.Method == http.MethodGet {
		s.record(r.Context(), ledger.Entry{Kind: ledger.KindRestoreDownload, Actor: actor(r),
			Message: msg.Sprintf("復元ファイルのダウンロード: %s %s", "restored file downloaded: %s %s", id, rel),
			Payload: ledger.RestoreDownloadData{Restore: id, Path: rel, Bytes: fi.Size()}})
	}
	h := w.Header()
	setPageHeaders(w)
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", attachment(path.Base(rel)))
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// attachment is a Content-Disposition that saves the file under its own
// name: filename* (RFC 5987, UTF-8) for Japanese names, and an ASCII
// filename for clients that know only that.
func attachment(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	var ext strings.Builder
	for _, c := range []byte(name) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			ext.WriteByte(c)
		} else {
			fmt.Fprintf(&ext, "%%%02X", c)
		}
	}
	return mime.FormatMediaType("attachment", map[string]string{"filename": ascii}) + "; filename*=UTF-8''" + ext.String()
}

// ToTarget reports whether the form sends the files back to a target.
func (f restoreForm) ToTarget() bool { return f.Dest == "target" }

// TargetOptions are the configured restore targets, the typed one chosen.
func (f restoreForm) TargetOptions(names []string) []optionView {
	var out []optionView
	for _, n := range names {
		out = append(out, optionView{Value: n, Label: msg.Plain(n), Selected: n == f.Target})
	}
	return out
}
