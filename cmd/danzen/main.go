// Command danzen is the operator's CLI for the danzen backup gateway.
package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/danzen-gw/danzen/internal/msg"
)

// cli is what every command is given: the log, and stdout and stderr in
// the language the person chose.
type cli struct {
	log  *slog.Logger
	out  *screen
	errs *screen
}

type command struct {
	name     string
	synopsis string   // the flags, after "danzen "
	what     msg.Text // what it does, for the usage table
	run      func(ctx context.Context, c *cli, args []string) error
}

func commands() []command {
	return []command{
		{"pull", "pull --config FILE [--source NAME]", msg.T("一回取得する", "pull the e-chart export once"), runPull},
		{"backup", "backup --config FILE --once", msg.T("一回のサイクル", "run one cycle now"), runBackup},
		{"medium", "medium init --config FILE --medium NAME [--password-recorded] [--force]", msg.T("媒体の初期化", "prepare a medium"), runMedium},
		{"restore", "restore --config FILE --medium NAME [--list] [--snapshot ID] [--file PATH]… [--to-target NAME --to-dir DIR] [--deadline 2h]", msg.T("復元", "restore"), runRestore},
		{"drill", "drill --config FILE [--medium NAME] [--list]", msg.T("復元訓練", "restore drill"), runDrill},
		{"hostkey", "hostkey --config FILE (--source NAME | --target NAME) [--accept SHA256:…]", msg.T("ホスト鍵を確認・登録・置き換え", "show, pin or replace a server's host key"), runHostKey},
		{"scan", "scan --config FILE [--format text|html|csv|json] [--ports 1-1024,3389] [--import-csv F | --export-csv F [--csv-encoding cp932]]", msg.T("外部接続点の調査", "WAN-edge self-scan"), runScan},
		{"config", "config check --config FILE", msg.T("設定ファイルの検査(ネットワークと機器には触れない)", "check a configuration file (no network, no hardware)"), runConfig},
		{"ledger", "ledger verify (--config FILE | --dir DIR)", msg.T("証跡台帳の検証", "verify the evidence ledger"), runLedger},
		{"docs", "docs --config FILE --out DIR [--from DATE --to DATE] [--lang ja|en] [--pdf]", msg.T("提出書類の生成", "generate the documents"), runDocs},
		{"image", "image push --cert-sha256 FP --user NAME [--password-file F] [--wait 10m] HOST[:8443] FILE.bundle", msg.T("署名済み更新ファイルをゲートウェイの画面(HTTPS)へ送る", "send a signed update bundle to a gateway's page (HTTPS)"), runImage},
		{"demo", "demo [--dir DIR] [--dump-size 200MB] [--once]", msg.T("組み込みの既定構成で動かす", "run on the embedded default"), runDemo},
	}
}

// langSynopsis is the global flag, said before the command.
const langSynopsis = "--lang ja|en|both"

var langWhat = msg.T("表示の言語(既定は LANG から。C では両方)", "language of the output (default: from LANG; both for C)")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs one invocation and returns its exit status: 0, 1 when the
// command failed, 2 when it was invoked wrongly, 3 or 4 when a pull left
// files out or pulled nothing (exitError).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	lang, args, err := globalFlags(args)
	// Nothing is left to tell anyone if stderr cannot be written: errs's
	// write error is not looked at.
	errs := &screen{w: stderr, lang: lang}
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage(errs)
		return 0
	case err != nil:
		errs.line("danzen: " + errs.in(err))
		usage(errs)
		return 2
	case len(args) == 0:
		usage(errs)
		return 2
	}
	c := &cli{
		log:  slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		out:  &screen{w: stdout, lang: lang, tty: isTerminal(stdout)},
		errs: errs,
	}
	for _, cmd := range commands() {
		if cmd.name != args[0] {
			continue
		}
		err := cmd.run(ctx, c, args[1:])
		if err == nil {
			err = c.out.Err()
		}
		if err == nil {
			return 0
		}
		errs.line("danzen " + cmd.name + ": " + errs.in(err))
		if errors.As(err, new(usageError)) {
			return 2
		}
		if xe, ok := err.(*exitError); ok { // only as the outcome itself: wrapped, another failure came with it
			return xe.code
		}
		return 1
	}
	usage(errs)
	return 2
}

// globalFlags reads the flags said before the command: --lang, else the
// language LANG names. It returns the arguments from the command on.
func globalFlags(args []string) (msg.Lang, []string, error) {
	lang := msg.FromEnv()
	fs := flag.NewFlagSet("danzen", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the usage table says it all
	langFlag := fs.String("lang", "", langWhat.EN)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return lang, nil, err
		}
		return lang, nil, flagError(err)
	}
	if *langFlag != "" {
		l, err := msg.ParseLang(*langFlag)
		if err != nil {
			return lang, nil, usageError{msg.TextOf(err)}
		}
		lang = l
	}
	return lang, fs.Args(), nil
}

// usage prints the table of commands, each said in s's language.
func usage(s *screen) {
	s.line("usage: danzen [" + langSynopsis + "] COMMAND [flags]")
	s.sayf("  danzen "+langSynopsis+"   ", langWhat)
	for _, c := range commands() {
		s.sayf("  danzen "+c.synopsis+"   ", c.what)
	}
}

// usageError is a mistake in how a command was invoked: exit status 2.
type usageError struct{ text msg.Text }

func (e usageError) Error() string              { return e.text.String() }
func (e usageError) Localize(l msg.Lang) string { return e.text.Localize(l) }

// badUsage is the usage of the command called name, as an error.
func badUsage(name string) error {
	for _, c := range commands() {
		if c.name == name {
			return usageError{msg.Plain("usage: danzen " + c.synopsis)}
		}
	}
	return usageError{msg.Plain("usage: danzen " + name)}
}

// flagError is a command's flags that do not parse.
func flagError(err error) error { return usageError{msg.Plain(err.Error())} }

// isTerminal reports whether w is a terminal (not a pipe, file or log).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
