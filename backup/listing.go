package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pkg/sftp"

	"github.com/danzen-gw/danzen/config"
)

// remoteFile is a regular file seen in the export directory.
type remoteFile struct {
	rel   string // relative to the export directory, "/"-separated
	size  int64
	mtime time.Time // whole seconds: SFTP v3 has no finer resolution
}

func (f remoteFile) same(g remoteFile) bool { return f.size == g.size && f.mtime.Equal(g.mtime) }

// listing is one walk of the export directory.
type listing struct {
	files   map[string]remoteFile // selected regular files, markers excluded
	markers map[string]time.Time  // directory ("" = export root) → its done-marker's mtime
	done    map[string]time.Time  // file → its per-file marker's mtime
	refused []Problem
}

// unsafeName says why a name from the server must not become a local
// path, or "" when it is fine. A hostile or broken server could send
// "../../etc/x" or names with control characters; none is staged.
func unsafeName(name string) string {
	switch {
	case name == "" || name == "." || name == "..":
		return "reserved name"
	case strings.ContainsAny(name, "/\x00"):
		return "contains '/' or NUL"
	case !utf8.ValidString(name):
		return "not UTF-8"
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return "contains a control character"
		}
	}
	return ""
}

// markerRule splits a per-file marker like "{name}.done" into its prefix
// and suffix; perFile is false for a directory marker.
func markerRule(c config.Completion) (prefix, suffix string, perFile bool) {
	if c.Mode != config.CompletionMarker {
		return "", "", false
	}
	prefix, suffix, perFile = strings.Cut(c.Marker, "{name}")
	return prefix, suffix, perFile
}

// list walks the export directory without following symlinks.
func list(ctx context.Context, c *sftp.Client, src *config.Source) (*listing, error) {
	l := &listing{files: map[string]remoteFile{}, markers: map[string]time.Time{}, done: map[string]time.Time{}}
	sel := selector{include: src.Include, exclude: src.Exclude}
	prefix, suffix, perFile := markerRule(src.Completion)
	dirMarker := src.Completion.Mode == config.CompletionMarker && !perFile

	queue := []string{""}
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		entries, err := c.ReadDirContext(ctx, path.Join(src.ExportDir, dir))
		if err != nil {
			if dir == "" && isNotExist(err) {
				return nil, fmt.Errorf("エクスポート先 %s が電子カルテサーバにありません / export directory %s does not exist on the e-chart server: %w", src.ExportDir, src.ExportDir, err)
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, retryable(fmt.Errorf("list %s: %w", path.Join(src.ExportDir, dir), err))
		}
		for _, fi := range entries {
			name := fi.Name()
			rel := path.Join(dir, name)
			if why := unsafeName(name); why != "" {
				l.refused = append(l.refused, Problem{Path: quoteRel(dir, name), Reason: "unsafe-name",
					JA: "安全でないファイル名のため取得しません(" + why + ")", EN: "unsafe file name, not staged (" + why + ")"})
				continue
			}
			if !filepath.IsLocal(filepath.FromSlash(rel)) {
				l.refused = append(l.refused, Problem{Path: rel, Reason: "unsafe-name",
					JA: "ステージング外を指すため取得しません", EN: "would escape staging, not staged"})
				continue
			}
			mode := fi.Mode()
			switch {
			case mode.IsDir():
				queue = append(queue, rel)
			case mode&fs.ModeSymlink != 0:
				if sel.selected(rel) {
					l.refused = append(l.refused, Problem{Path: rel, Reason: "symlink",
						JA: "シンボリックリンクはたどりません", EN: "symbolic link, not followed"})
				}
			case !mode.IsRegular():
				if sel.selected(rel) {
					l.refused = append(l.refused, Problem{Path: rel, Reason: "special",
						JA: "通常ファイルではありません(" + mode.Type().String() + ")", EN: "not a regular file (" + mode.Type().String() + ")"})
				}
			case dirMarker && name == src.Completion.Marker:
				l.markers[dir] = fi.ModTime()
			case perFile && strings.HasPrefix(name, prefix) && strings.HasSuffix(name, suffix) && len(name) > len(prefix)+len(suffix):
				l.done[path.Join(dir, name[len(prefix):len(name)-len(suffix)])] = fi.ModTime()
			case sel.selected(rel):
				l.files[rel] = remoteFile{rel: rel, size: fi.Size(), mtime: fi.ModTime()}
			}
		}
	}
	return l, nil
}

func quoteRel(dir, name string) string {
	return path.Join(dir, fmt.Sprintf("%q", name))
}

// markerComplete applies the done-marker rule: the marker must exist and
// be at least as new as the file, so a file rewritten after the marker
// (the next export already running) is not taken.
func (l *listing) markerComplete(f remoteFile, perFile bool) (ok bool, why Problem) {
	if perFile {
		if mt, found := l.done[f.rel]; found && !f.mtime.After(mt) {
			return true, Problem{}
		}
		return false, Problem{Path: f.rel, Reason: "not-complete",
			JA: "完了マーカーがないか、ファイルがマーカーより新しいため未完了とみなしました",
			EN: "no done-marker, or the file is newer than its marker: not complete yet"}
	}
	for dir := path.Dir(f.rel); ; dir = path.Dir(dir) {
		if dir == "." {
			dir = ""
		}
		if mt, found := l.markers[dir]; found && !f.mtime.After(mt) {
			return true, Problem{}
		}
		if dir == "" {
			break
		}
	}
	return false, Problem{Path: f.rel, Reason: "not-complete",
		JA: "完了マーカーがないか、ファイルがマーカーより新しいため未完了とみなしました",
		EN: "no done-marker covers it, or the file is newer than the marker: not complete yet"}
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
