// Package restic drives the restic binary (pinned at v0.19.1) with --json
// and turns its output into typed progress events and typed errors.
//
// The repositories are plain restic repositories (format 2): stock restic
// on any PC restores them with the same password.
//
// # Running restic
//
// Every call runs one restic process with:
//   - --json; restic's "status", "summary", "error" and "exit_error"
//     messages become Events passed to Repo.OnEvent. restic also prints
//     plain text (on stderr and sometimes stdout); such lines are skipped
//     and the last few are kept for the error message.
//   - --repo and --password-file (a 0600 file). No password is ever put on
//     the command line, in the environment or in a log. The environment is
//     the process's own minus every RESTIC_* and TMPDIR, plus
//     RESTIC_CACHE_DIR and TMPDIR from the Repo and Repo.Env (e.g. S3
//     credentials; only their names are logged).
//   - --retry-lock (Repo.RetryLock, default 1m) for operations that lock,
//     --compression auto (Repo.Compression) for operations that write.
//   - backup always gets --host Repo.Host, the gateway's ID, so that
//     retention groups do not depend on the machine's hostname; Forget
//     and "latest" only consider that host's snapshots. backup --stdin is
//     never used.
//
// Cancelling the context sends restic SIGINT (it then stops, removes its
// lock and exits 130); after Repo.StopGrace it is killed. The call returns
// an *ExitError matching ErrInterrupted (and the context's error).
//
// # Restored paths
//
// Backup(dir) runs restic in dir and backs up ".": the snapshot root holds
// dir's entries. Restore(id, T) therefore gives T/<entries of dir>, and
// include paths are "/sub/file". The snapshot's paths field still records
// the absolute dir, which is what the default retention grouping uses.
//
// # Errors
//
// restic's exit codes map to ExitCode sentinels usable with errors.Is:
// ErrFatal (1), ErrSourceUnreadable (3, backup wrote an incomplete
// snapshot: danzen reports the export as failed, the items are listed),
// ErrRepoMissing (10), ErrLocked (11), ErrWrongPassword (12),
// ErrInterrupted (130). The *ExitError's message is for the operator, in
// Japanese and English. A restic binary that cannot be started gives a
// *BinaryError matching ErrBinaryMissing.
package restic
