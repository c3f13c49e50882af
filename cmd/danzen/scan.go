package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/netprobe"
	"github.com/danzen-gw/danzen/netprobe/register"
)

// runScan: `danzen scan` scans the connection points of the register, or
// imports and exports the register as CSV.
func runScan(ctx context.Context, log *slog.Logger, args []string) error {
	fs := newFlags("scan")
	fs.Lookup("config").Usage += " (its scan section)"
	format := fs.String("format", "text", "report on stdout: text, html, csv or json")
	ports := fs.String("ports", "", "TCP ports instead of the configured ones (e.g. 1-1024,3389)")
	importCSV := fs.String("import-csv", "", "replace the register with this CSV (回線・機器情報記入シート) and exit")
	exportCSV := fs.String("export-csv", "", "write the register as CSV to this file (- for stdout) and exit")
	cfg, err := fs.load(args)
	if err != nil {
		return err
	}
	regPath, _ := netprobe.Files(fs.config, cfg.Scan)
	switch {
	case *importCSV != "":
		f, err := os.Open(*importCSV)
		if err != nil {
			return err
		}
		defer f.Close()
		reg, err := register.ReadCSV(f)
		if err != nil {
			return fmt.Errorf("%s: %w", *importCSV, err)
		}
		if err := register.Save(regPath, reg); err != nil {
			return err
		}
		fmt.Printf("接続点 %d 件を %s に登録しました / %d connection points saved to %s\n", len(reg.Points), regPath, len(reg.Points), regPath)
		return nil
	case *exportCSV != "":
		reg, err := register.Load(regPath)
		if err != nil {
			return err
		}
		var b strings.Builder
		if err := register.WriteCSV(&b, reg); err != nil {
			return err
		}
		if *exportCSV == "-" {
			_, err = io.WriteString(os.Stdout, b.String())
			return err
		}
		return atomicfile.Write(*exportCSV, []byte(b.String()), 0o644)
	}
	write := map[string]func(*netprobe.Report, io.Writer) error{
		"text": printScan, "html": (*netprobe.Report).WriteHTML, "csv": (*netprobe.Report).WriteCSV, "json": (*netprobe.Report).WriteJSON,
	}[*format]
	if write == nil {
		return usageError{"--format は text, html, csv, json のいずれか / --format is text, html, csv or json"}
	}
	if *ports != "" {
		if _, err := config.ParsePorts(*ports); err != nil {
			return usageError{"--ports: " + err.Error()}
		}
		cfg.Scan.TCPPorts = *ports
	}
	// Through the gateway, like the page's and the schedule's scans: it
	// waits for a running job, records the scan in the ledger and alerts
	// new 注意 findings. ConfigPath puts the register and reports beside
	// the configuration file.
	g, err := gateway.Open(ctx, cfg, gateway.Options{Logger: log, ConfigPath: fs.config})
	if errors.Is(err, ledger.ErrInUse) {
		return fmt.Errorf("%w\ndanzend が動作中なら、ページの「自己診断」(/scan)の「今すぐ調査」で調査してください / if danzend is running, scan from the page instead: Self-scan (/scan), \"Scan now\"", err)
	}
	if err != nil {
		return err
	}
	defer g.Close()
	r, err := g.Scan(ctx, "cli")
	if err != nil {
		return err
	}
	if err := write(r, os.Stdout); err != nil {
		return err
	}
	_, dir := netprobe.Files(fs.config, cfg.Scan)
	fmt.Fprintf(os.Stderr, "保存先 / saved in: %s (注意 %d)\n", dir, r.Cautions())
	return nil
}

func printScan(r *netprobe.Report, w io.Writer) error {
	fmt.Fprintf(w, "外部ネットワーク接続点 調査結果 / external connection points (%s, feed %s)\n", r.Started.Format("2006-01-02 15:04 MST"), r.FeedDate)
	for _, row := range r.Rows() {
		fmt.Fprintf(w, "%d | %s | %s | %s | %s\n", row.No, row.ID, row.Device, row.Addresses, row.Attention)
		for _, l := range row.Lines {
			fmt.Fprintf(w, "    %s\n    %s\n", l.JA, l.EN)
		}
	}
	if d := r.Changes; d != nil {
		fmt.Fprintf(w, "前回から / since %s: opened %d, closed %d, new 注意 %d, resolved %d\n",
			d.Previous.Format("2006-01-02 15:04"), len(d.Opened), len(d.Closed), len(d.NewCautions), len(d.Resolved))
	}
	return nil
}
