package restic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/internal/msg"
)

// RepositoryVersion is the repository format Init creates (format 2:
// compression; restic ≥ 0.14 reads it).
const RepositoryVersion = 2

// Init creates a new repository (format 2) at r.Location.
func (r *Repo) Init(ctx context.Context) error {
	_, err := r.run(ctx, invocation{op: "init", args: []string{"--repository-version=" + strconv.Itoa(RepositoryVersion)}})
	return wrap("init", err)
}

// InitLike creates a new repository (format 2) that uses the chunker
// parameters of the existing repository from (--from-repo
// --copy-chunker-params), so that snapshots copied from it deduplicate.
func (r *Repo) InitLike(ctx context.Context, from *Repo) error {
	if from == nil {
		return errors.New("restic init: source repository is nil")
	}
	_, err := r.run(ctx, invocation{op: "init", from: from, args: []string{
		"--repository-version=" + strconv.Itoa(RepositoryVersion), "--copy-chunker-params"}})
	return wrap("init", err)
}

// BackupResult is what a backup produced.
type BackupResult struct {
	SnapshotID string        // "" if no snapshot was written
	Summary    BackupSummary // restic's summary message
	Errors     []ItemError   // items restic could not read
}

// Backup saves the contents of the directory dir as a new snapshot,
// tagged with tags and recorded under r.Host.
//
// restic runs with dir as its working directory and backs up ".", so the
// snapshot's root holds dir's entries: restoring with --target T gives
// T/<entries of dir> (not T/<absolute path of dir>/…), whatever dir was
// called. The snapshot's "paths" field records the absolute dir; with the
// default GroupByHostPaths retention, each staging directory is its own
// generation line.
//
// If some files could not be read, restic still writes a snapshot
// (exit 3): Backup then returns the result with SnapshotID set AND an
// *ExitError matching ErrSourceUnreadable that lists the items. danzen
// treats that as a failed export.
func (r *Repo) Backup(ctx context.Context, dir string, tags []string) (BackupResult, error) {
	var res BackupResult
	abs, err := filepath.Abs(dir)
	if err != nil {
		return res, fmt.Errorf("restic backup %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return res, msg.Errorf("バックアップ元 %s を開けません: %w", "cannot open backup source %s: %w", abs, err)
	}
	if !fi.IsDir() {
		return res, msg.Errorf("バックアップ元 %s がディレクトリではありません", "backup source %s is not a directory", abs)
	}
	args := []string{"--host=" + r.Host}
	for _, t := range tags {
		if t == "" || strings.ContainsAny(t, ",\n") {
			return res, fmt.Errorf("restic backup: invalid tag %q (empty or contains a comma)", t)
		}
		args = append(args, "--tag="+t)
	}
	args = append(args, ".")
	p, err := r.run(ctx, invocation{op: "backup", args: args, dir: abs, lock: true, compress: true})
	if ev, ok := p.lastEvent(KindSummary); ok && ev.Summary != nil {
		res.Summary = *ev.Summary
		res.SnapshotID = ev.Summary.SnapshotID
	}
	res.Errors = p.itemErrors()
	if err == nil && res.SnapshotID == "" {
		return res, fmt.Errorf("restic backup of %s exited 0 without a snapshot ID: %w", abs, ErrFatal)
	}
	return res, wrap("backup", err)
}

// GroupBy is how Forget groups snapshots before applying a Policy.
type GroupBy string

const (
	// GroupByHostPaths (default, restic's own default): one generation
	// line per host and backed-up directory. Two sources staged in
	// different directories can never push each other's snapshots out.
	GroupByHostPaths GroupBy = "host,paths"
	// GroupByHostTags: one line per host and tag set; use when the staging
	// directory may move but tags name the source.
	GroupByHostTags GroupBy = "host,tags"
)

// DefaultKeepLast is Policy.KeepLast when it is zero.
const DefaultKeepLast = 5

// Policy says which generations Forget keeps in each group. A snapshot
// matching any rule is kept.
type Policy struct {
	KeepLast    int // 0 means DefaultKeepLast
	KeepDaily   int // 0 = rule not used
	KeepWeekly  int
	KeepMonthly int
	GroupBy     GroupBy // "" means GroupByHostPaths
}

// ForgetGroup is one group of restic's forget --json output.
type ForgetGroup struct {
	Host   string     `json:"host"`
	Paths  []string   `json:"paths"`
	Tags   []string   `json:"tags"`
	Keep   []Snapshot `json:"keep"`
	Remove []Snapshot `json:"remove"`
}

// ForgetResult is what Forget decided, per group.
type ForgetResult struct {
	Groups []ForgetGroup
}

// Kept returns the snapshots kept in all groups.
func (f ForgetResult) Kept() []Snapshot {
	var s []Snapshot
	for _, g := range f.Groups {
		s = append(s, g.Keep...)
	}
	return s
}

// Removed returns the snapshots removed in all groups.
func (f ForgetResult) Removed() []Snapshot {
	var s []Snapshot
	for _, g := range f.Groups {
		s = append(s, g.Remove...)
	}
	return s
}

// Forget removes the snapshots of r.Host that the policy does not keep,
// then prunes unreferenced data (forget --prune). Snapshots of other
// hosts are not touched.
func (r *Repo) Forget(ctx context.Context, pol Policy) (ForgetResult, error) {
	var res ForgetResult
	if pol.KeepLast < 0 || pol.KeepDaily < 0 || pol.KeepWeekly < 0 || pol.KeepMonthly < 0 {
		return res, errors.New("restic forget: negative keep count")
	}
	keepLast := pol.KeepLast
	if keepLast == 0 {
		keepLast = DefaultKeepLast
	}
	group := pol.GroupBy
	if group == "" {
		group = GroupByHostPaths
	}
	if group != GroupByHostPaths && group != GroupByHostTags {
		return res, fmt.Errorf("restic forget: unknown GroupBy %q", group)
	}
	args := []string{"--host=" + r.Host, "--group-by=" + string(group), "--keep-last=" + strconv.Itoa(keepLast)}
	for _, k := range []struct {
		flag string
		n    int
	}{{"--keep-daily=", pol.KeepDaily}, {"--keep-weekly=", pol.KeepWeekly}, {"--keep-monthly=", pol.KeepMonthly}} {
		if k.n > 0 {
			args = append(args, k.flag+strconv.Itoa(k.n))
		}
	}
	args = append(args, "--prune")
	p, err := r.run(ctx, invocation{op: "forget", args: args, lock: true, compress: true})
	if raw, ok := p.lastArray(); ok {
		if jerr := json.Unmarshal(raw, &res.Groups); jerr != nil && err == nil {
			err = fmt.Errorf("restic forget: cannot parse its JSON output: %w", jerr)
		}
	}
	return res, wrap("forget", err)
}

// Prune removes data no snapshot references: what a backup that failed
// part-way (a full medium, a kill) left behind. No snapshot is removed.
func (r *Repo) Prune(ctx context.Context) error {
	_, err := r.run(ctx, invocation{op: "prune", lock: true, compress: true})
	return wrap("prune", err)
}

// CheckOptions tunes Check.
type CheckOptions struct {
	// ReadDataSubset, if set, also reads and verifies that part of the
	// pack files: "10%", "1/5" (part 1 of 5), or a size like "500M".
	ReadDataSubset string
	// ReadData reads and verifies every pack file (--read-data): the
	// drill's check, slow but complete. It overrides ReadDataSubset.
	ReadData bool
}

// CheckResult is restic check's verdict.
type CheckResult struct {
	Summary CheckSummary
	Errors  []ItemError
}

// Check verifies the repository structure and, with ReadDataSubset, a
// part of the data. A repository with errors gives an *ExitError
// matching ErrFatal whose Items hold the problems.
func (r *Repo) Check(ctx context.Context, opts CheckOptions) (CheckResult, error) {
	var res CheckResult
	var args []string
	switch {
	case opts.ReadData:
		args = append(args, "--read-data")
	case opts.ReadDataSubset != "":
		args = append(args, "--read-data-subset="+opts.ReadDataSubset)
	}
	p, err := r.run(ctx, invocation{op: "check", args: args, lock: true})
	if ev, ok := p.lastEvent(KindSummary); ok && ev.CheckSummary != nil {
		res.Summary = *ev.CheckSummary
	}
	res.Errors = p.itemErrors()
	if err == nil && res.Summary.NumErrors > 0 {
		err = &ExitError{Op: "check", Repo: r.displayLocation(), Code: ErrFatal, Items: res.Errors,
			Message: fmt.Sprintf("%d errors", res.Summary.NumErrors)}
	}
	return res, wrap("check", err)
}

// Snapshot is one snapshot as restic lists it.
type Snapshot struct {
	ID             string           `json:"id"`
	ShortID        string           `json:"short_id"`
	Time           time.Time        `json:"time"`
	Parent         string           `json:"parent,omitempty"`
	Tree           string           `json:"tree"`
	Paths          []string         `json:"paths"`
	Hostname       string           `json:"hostname,omitempty"`
	Username       string           `json:"username,omitempty"`
	Tags           []string         `json:"tags,omitempty"`
	Original       string           `json:"original,omitempty"` // source snapshot ID of a copy
	ProgramVersion string           `json:"program_version,omitempty"`
	Summary        *SnapshotSummary `json:"summary,omitempty"`
}

// SnapshotSummary is the backup statistics restic stores in a snapshot.
type SnapshotSummary struct {
	BackupStart         time.Time `json:"backup_start"`
	BackupEnd           time.Time `json:"backup_end"`
	FilesNew            uint64    `json:"files_new"`
	FilesChanged        uint64    `json:"files_changed"`
	FilesUnmodified     uint64    `json:"files_unmodified"`
	DataAdded           uint64    `json:"data_added"`
	DataAddedPacked     uint64    `json:"data_added_packed"`
	TotalFilesProcessed uint64    `json:"total_files_processed"`
	TotalBytesProcessed uint64    `json:"total_bytes_processed"`
}

// Snapshots lists all snapshots in the repository (every host), oldest
// first.
func (r *Repo) Snapshots(ctx context.Context) ([]Snapshot, error) {
	p, err := r.run(ctx, invocation{op: "snapshots", lock: true})
	if err != nil {
		return nil, wrap("snapshots", err)
	}
	raw, ok := p.lastArray()
	if !ok {
		return nil, fmt.Errorf("restic snapshots printed no JSON list: %w", ErrFatal)
	}
	var list []Snapshot
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("restic snapshots: cannot parse its JSON output: %w", err)
	}
	return list, nil
}

// SnapshotsUsing returns the IDs of the snapshots among snaps that
// reference any blob stored in the pack files packs (full IDs, as check
// reports them as broken). It asks restic find once per snapshot because
// find reports each blob only at its first occurrence.
func (r *Repo) SnapshotsUsing(ctx context.Context, packs []string, snaps []Snapshot) ([]string, error) {
	if len(packs) == 0 {
		return nil, nil
	}
	for _, p := range packs {
		if !validSnapshotID(p) || p == "latest" {
			return nil, fmt.Errorf("restic find: invalid pack ID %q", p)
		}
	}
	var using []string
	for _, s := range snaps {
		args := append([]string{"--pack", "--snapshot=" + s.ID}, packs...)
		p, err := r.run(ctx, invocation{op: "find", args: args, lock: true})
		if err != nil {
			return using, wrap("find", err)
		}
		raw, ok := p.lastArray()
		if !ok {
			continue // no match prints nothing
		}
		var found []json.RawMessage
		if err := json.Unmarshal(raw, &found); err != nil {
			return using, fmt.Errorf("restic find: cannot parse its JSON output: %w", err)
		}
		if len(found) > 0 {
			using = append(using, s.ID)
		}
	}
	return using, nil
}

// validSnapshotID accepts "latest" or 8–64 lowercase hex digits.
func validSnapshotID(id string) bool {
	if id == "latest" {
		return true
	}
	if len(id) < 8 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// Restore writes snapshot snapshotID into the directory target and
// verifies the restored files' content against the repository
// (--verify). include limits it to these paths inside the snapshot; as
// Backup stores a directory's entries at the snapshot root, they look like
// "/sub/file". snapshotID "latest" means the newest snapshot of r.Host;
// an explicit ID may belong to any host (e.g. a replaced gateway).
func (r *Repo) Restore(ctx context.Context, snapshotID, target string, include ...string) (RestoreSummary, error) {
	return r.RestoreWith(ctx, snapshotID, target, RestoreOptions{Include: include, Verify: true})
}

// RestoreOptions tune RestoreWith.
type RestoreOptions struct {
	Include []string // paths inside the snapshot ("/sub/file"); none: everything
	// Verify re-reads every restored file and compares it with the
	// repository (--verify). A caller that checks the files against its
	// own checksums afterwards can skip this second read.
	Verify bool
	// Tags narrow "latest" to snapshots with these tags ("source=emr").
	Tags []string
}

// RestoreWith is Restore with options.
func (r *Repo) RestoreWith(ctx context.Context, snapshotID, target string, opts RestoreOptions) (RestoreSummary, error) {
	var res RestoreSummary
	if !validSnapshotID(snapshotID) {
		return res, fmt.Errorf("restic restore: invalid snapshot ID %q", snapshotID)
	}
	if target == "" {
		return res, errors.New("restic restore: empty target directory")
	}
	abs, err := filepath.Abs(target)
	if err != nil {
		return res, fmt.Errorf("restic restore %s: %w", target, err)
	}
	args := []string{"--target=" + abs}
	if opts.Verify {
		args = append(args, "--verify")
	}
	if snapshotID == "latest" {
		args = append(args, "--host="+r.Host)
	}
	for _, t := range opts.Tags {
		args = append(args, "--tag="+t)
	}
	for _, inc := range opts.Include {
		if inc == "" {
			return res, errors.New("restic restore: empty include path")
		}
		args = append(args, "--include="+inc)
	}
	args = append(args, snapshotID)
	p, err := r.run(ctx, invocation{op: "restore", args: args, lock: true})
	if ev, ok := p.lastEvent(KindSummary); ok && ev.RestoreSummary != nil {
		res = *ev.RestoreSummary
	}
	return res, wrap("restore", err)
}

// Unlock removes stale locks only (plain "restic unlock", never
// --remove-all): locks older than 30 minutes, or made on this machine by a
// process that no longer exists. A live process's lock stays.
func (r *Repo) Unlock(ctx context.Context) error {
	_, err := r.run(ctx, invocation{op: "unlock"})
	return wrap("unlock", err)
}

// Copy copies the snapshots snapshotIDs (all snapshots if none) from the
// repository from into r. Copies keep host, paths and tags; their
// "original" field is the source snapshot ID. Create r with InitLike(from)
// so that the copied data deduplicates. Both repositories' Env are passed
// to restic together (same variable names for both, so two S3 stores with
// different credentials cannot be copied between directly).
func (r *Repo) Copy(ctx context.Context, from *Repo, snapshotIDs []string) error {
	if from == nil {
		return errors.New("restic copy: source repository is nil")
	}
	args := make([]string, 0, len(snapshotIDs))
	for _, id := range snapshotIDs {
		if !validSnapshotID(id) || id == "latest" {
			return fmt.Errorf("restic copy: invalid snapshot ID %q", id)
		}
		args = append(args, id)
	}
	_, err := r.run(ctx, invocation{op: "copy", args: args, lock: true, compress: true, from: from})
	var xe *ExitError
	if errors.As(err, &xe) {
		xe.From = from.displayLocation()
	}
	return wrap("copy", err)
}

// Version returns the restic version ("0.19.1"). It needs only Binary and
// is a cheap way to check that restic can be run.
func (r *Repo) Version(ctx context.Context) (string, error) {
	p, err := r.run(ctx, invocation{op: "version", noRepo: true})
	if err != nil {
		return "", wrap("version", err)
	}
	ev, ok := p.lastEvent("version")
	if !ok {
		return "", fmt.Errorf("restic version printed no JSON: %w", ErrFatal)
	}
	var v struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(ev.Raw, &v); err != nil || v.Version == "" {
		return "", fmt.Errorf("restic version: cannot parse %q", ev.Raw)
	}
	return v.Version, nil
}

// wrap leaves the typed errors as they are (their message is already
// complete) and prefixes others with the operation.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var xe *ExitError
	var be *BinaryError
	if errors.As(err, &xe) || errors.As(err, &be) {
		return err
	}
	if strings.HasPrefix(err.Error(), "restic") {
		return err
	}
	return fmt.Errorf("restic %s: %w", op, err)
}
