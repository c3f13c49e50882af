// Package pdf prints the documents' A4 HTML to PDF with headless
// Chromium. Only the CLI and a bench PC print PDFs: the appliance can
// never run a browser, so danzend does not import this package (and with
// it chromedp and its protocol packages); its page offers the
// print-ready HTML instead.
package pdf

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/internal/msg"
)

// FindChromium returns the path of a headless-capable Chromium, or "" when
// none is installed (the appliance has none: PDFs are made on a PC).
func FindChromium() string {
	// The real binary, not Debian's wrapper script, which adds flags.
	if _, err := os.Stat("/usr/lib/chromium/chromium"); err == nil {
		return "/usr/lib/chromium/chromium"
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// Printer prints HTML files to PDF with one headless Chromium. It never
// touches the network: every host name but 127.0.0.1 fails to resolve.
type Printer struct {
	ctx    context.Context
	cancel func()
	mu     sync.Mutex
	// Console collects the console errors and exceptions of every page
	// printed, which a correct document never has.
	console []string
}

var _ documents.PDFPrinter = (*Printer)(nil)

// HeadlessChromium are the options danzen starts Debian's Chromium with
// (here and in the page's browser tests): headless, no sandbox, GPU or
// background traffic, a fresh profile in dataDir, and no name resolving
// but 127.0.0.1, so a document or page can reach nothing else.
func HeadlessChromium(path, dataDir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(dataDir),
	}
}

// NewPrinter starts Chromium at path with a fresh profile in tmpDir.
func NewPrinter(ctx context.Context, path, tmpDir string) (*Printer, error) {
	if path == "" {
		return nil, msg.New("Chromium が見つかりません。PDFは作成できません(HTMLをブラウザで印刷してください)",
			"no Chromium is installed, so no PDF can be made: print the HTML from a browser")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, HeadlessChromium(path, tmpDir)...)
	bctx, cancel := chromedp.NewContext(alloc)
	p := &Printer{ctx: bctx, cancel: func() { cancel(); cancelAlloc() }}
	if err := chromedp.Do(bctx); err != nil {
		p.cancel()
		return nil, msg.Errorf("Chromium を起動できません: %w", "cannot start Chromium: %w", err)
	}
	go p.collectConsole()
	return p, nil
}

// collectConsole keeps the tab's console errors until Chromium stops.
func (p *Printer) collectConsole() {
	for m, err := range chromedp.Console(p.ctx) {
		if err != nil {
			return
		}
		if m.Type == chromedp.ConsoleError || m.IsException() {
			p.mu.Lock()
			p.console = append(p.console, fmt.Sprintf("%s %s:%d %s", m.Type, m.URL, m.Line+1, m.Text))
			p.mu.Unlock()
		}
	}
}

// Close stops Chromium.
func (p *Printer) Close() { p.cancel() }

// ConsoleErrors returns the console errors seen so far.
func (p *Printer) ConsoleErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.console...)
}

// Context is the browser tab, for callers that take other captures.
func (p *Printer) Context() context.Context { return p.ctx }

// PDF prints the HTML file at path on A4, using the page size and margins
// of the document's print CSS (its header carries the hospital and date).
func (p *Printer) PDF(ctx context.Context, path string) ([]byte, error) {
	u := url.URL{Scheme: "file", Path: path}
	tctx := p.ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel func()
		tctx, cancel = context.WithDeadline(p.ctx, dl)
		defer cancel()
	}
	if err := chromedp.Do(tctx, chromedp.Navigate(u.String())); err != nil {
		return nil, msg.Errorf("%s を開けません: %w", "cannot open %s: %w", path, err)
	}
	out, err := chromedp.Run(tctx, chromedp.PrintToPDF(
		chromedp.PDFPaper(chromedp.PaperA4),
		chromedp.PDFPrintBackground(),
		func(pp *page.PrintToPDFParams) { t := true; pp.PreferCSSPageSize = &t },
	))
	if err != nil {
		return nil, msg.Errorf("%s をPDFにできません: %w", "cannot print %s to PDF: %w", path, err)
	}
	if !strings.HasPrefix(string(out), "%PDF-") {
		return nil, msg.Errorf("%s: Chromium がPDFを返しませんでした", "%s: Chromium returned no PDF", path)
	}
	return out, nil
}
