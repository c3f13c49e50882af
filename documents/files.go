package documents

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
)

// File is one generated file. Its Name is fixed by the document, the
// language and the format, never taken from a request.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// Formats of the files.
const (
	FormatHTML     = "html"
	FormatMarkdown = "md"
	FormatPDF      = "pdf"
)

// FileName is the name of document id in lang and format.
func FileName(id, lang, format string) string { return id + "." + lang + "." + format }

// Files renders every document as HTML and Markdown, with the drawings
// the Markdown links to. Names are unique within the set.
func (s *Set) Files() ([]File, error) {
	var out []File
	for _, d := range s.Docs {
		h, err := HTML(d)
		if err != nil {
			return nil, err
		}
		out = append(out,
			File{Name: FileName(d.ID, d.Lang, FormatHTML), ContentType: "text/html; charset=utf-8", Data: h},
			File{Name: FileName(d.ID, d.Lang, FormatMarkdown), ContentType: "text/markdown; charset=utf-8", Data: Markdown(d)})
		for _, f := range d.Figures {
			out = append(out, File{Name: f.File, ContentType: "image/svg+xml", Data: []byte(f.SVG)})
		}
	}
	return out, nil
}

// Lookup returns the file called name, or false. It is how the page
// serves a download: only names the set itself made can match.
func Lookup(files []File, name string) (File, bool) {
	i := slices.IndexFunc(files, func(f File) bool { return f.Name == name })
	if i < 0 {
		return File{}, false
	}
	return files[i], true
}

// PDFPrinter prints an HTML file to PDF. documents/pdf's Printer is the
// one danzen has; it lives in its own package so that danzend, which can
// never run a browser, does not link Chromium's protocol packages.
type PDFPrinter interface {
	PDF(ctx context.Context, htmlPath string) ([]byte, error)
}

// WriteAll writes files into dir (atomically each), and with a printer
// also a PDF of every HTML document. It returns the names written.
func WriteAll(ctx context.Context, dir string, files []File, p PDFPrinter) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, msg.Errorf("出力先 %s を作成できません: %w", "cannot create the output directory %s: %w", dir, err)
	}
	var names []string
	write := func(name string, data []byte) error {
		if err := atomicfile.Write(filepath.Join(dir, name), data, 0o644); err != nil {
			return msg.Errorf("%s を書き込めません: %w", "cannot write %s: %w", name, err)
		}
		names = append(names, name)
		return nil
	}
	for _, f := range files {
		if err := write(f.Name, f.Data); err != nil {
			return names, err
		}
	}
	if p == nil {
		return names, nil
	}
	for _, f := range files {
		stem, ok := strings.CutSuffix(f.Name, "."+FormatHTML)
		if !ok {
			continue
		}
		pdf, err := p.PDF(ctx, filepath.Join(dir, f.Name))
		if err != nil {
			return names, err
		}
		if err := write(stem+"."+FormatPDF, pdf); err != nil {
			return names, err
		}
	}
	return names, nil
}
