package pull

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pkg/sftp"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
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
	files   map[string]remoteFile // selected regular files and the done-markers
	markers map[string]time.Time  // directory ("" = export root) → its done-marker's mtime
	done    map[string]time.Time  // file → its per-file marker's mtime
	// isMarker marks the done-markers among files: part of the export,
	// they are staged whatever include and exclude say, so a restored
	// export shows it was complete.
	isMarker map[string]bool
	refused  []Problem
}

// unsafeName says why a name from the server must not become a local
// path, or nothing when it is fine. A hostile or broken server could send
// "../../etc/x" or names with control characters; none is staged.
func unsafeName(name string) msg.Text {
	switch {
	case name == "" || name == "." || name == "..":
		return msg.T("予約された名前", "reserved name")
	case strings.ContainsAny(name, "/\x00"):
		return msg.T("「/」か NUL を含む", "contains '/' or NUL")
	case !utf8.ValidString(name):
		return msg.T("UTF-8 ではない", "not UTF-8")
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return msg.T("制御文字を含む", "contains a control character")
		}
	}
	return msg.Text{}
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
	l := &listing{files: map[string]remoteFile{}, markers: map[string]time.Time{}, done: map[string]time.Time{}, isMarker: map[string]bool{}}
	w := walker{src: src, sel: selector{include: src.Include, exclude: src.Exclude}}
	w.prefix, w.suffix, w.perFile = markerRule(src.Completion)
	w.dirMarker = src.Completion.Mode == config.CompletionMarker && !w.perFile

	queue := []string{""}
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		entries, err := c.ReadDirContext(ctx, path.Join(src.ExportDir, dir))
		if err != nil {
			if dir == "" && isNotExist(err) {
				return nil, msg.Errorf("エクスポート先 %s が電子カルテサーバにありません: %w",
					"export directory %s does not exist on the e-chart server: %w", src.ExportDir, err)
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, retryable(msg.Errorf("%s を一覧できません: %w", "cannot list %s: %w", path.Join(src.ExportDir, dir), err))
		}
		for _, fi := range entries {
			if w.add(l, dir, fi) {
				queue = append(queue, path.Join(dir, fi.Name()))
			}
		}
	}
	return l, nil
}

// walker sorts the entries of a listing by the source's rules.
type walker struct {
	src                *config.Source
	sel                selector
	prefix, suffix     string // of a per-file marker
	perFile, dirMarker bool
}

// add files one entry of dir into l: a selected file, a marker, or a
// refusal. It reports whether the entry is a directory to walk.
func (w *walker) add(l *listing, dir string, fi os.FileInfo) (walk bool) {
	name := fi.Name()
	rel := path.Join(dir, name)
	if why := unsafeName(name); !why.IsZero() {
		l.refused = append(l.refused, Problem{Path: quoteRel(dir, name), Reason: "unsafe-name",
			Text: msg.Sprintf("安全でないファイル名のため取得しません(%s)", "unsafe file name, not staged (%s)", why)})
		return false
	}
	if !filepath.IsLocal(filepath.FromSlash(rel)) {
		l.refused = append(l.refused, Problem{Path: rel, Reason: "unsafe-name",
			Text: msg.T("ステージング外を指すため取得しません", "would escape staging, not staged")})
		return false
	}
	mode := fi.Mode()
	switch {
	case mode.IsDir():
		return true
	case mode&fs.ModeSymlink != 0:
		if w.sel.selected(rel) {
			l.refused = append(l.refused, Problem{Path: rel, Reason: "symlink",
				Text: msg.T("シンボリックリンクはたどりません", "symbolic link, not followed")})
		}
	case !mode.IsRegular():
		if w.sel.selected(rel) {
			l.refused = append(l.refused, Problem{Path: rel, Reason: "special",
				Text: msg.Sprintf("通常ファイルではありません(%s)", "not a regular file (%s)", mode.Type().String())})
		}
	case w.dirMarker && name == w.src.Completion.Marker:
		l.markers[dir] = fi.ModTime()
		l.addMarker(rel, fi)
	case w.perFile && strings.HasPrefix(name, w.prefix) && strings.HasSuffix(name, w.suffix) && len(name) > len(w.prefix)+len(w.suffix):
		l.done[path.Join(dir, name[len(w.prefix):len(name)-len(w.suffix)])] = fi.ModTime()
		l.addMarker(rel, fi)
	case w.sel.selected(rel):
		l.files[rel] = remoteFile{rel: rel, size: fi.Size(), mtime: fi.ModTime()}
	}
	return false
}

// addMarker lists a done-marker as a file to stage.
func (l *listing) addMarker(rel string, fi os.FileInfo) {
	l.files[rel] = remoteFile{rel: rel, size: fi.Size(), mtime: fi.ModTime()}
	l.isMarker[rel] = true
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
		return false, Problem{Path: f.rel, Reason: "not-complete", Text: msg.T(
			"完了マーカーがないか、ファイルがマーカーより新しいため未完了とみなしました",
			"no done-marker, or the file is newer than its marker: not complete yet")}
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
	return false, Problem{Path: f.rel, Reason: "not-complete", Text: msg.T(
		"完了マーカーがないか、ファイルがマーカーより新しいため未完了とみなしました",
		"no done-marker covers it, or the file is newer than the marker: not complete yet")}
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
