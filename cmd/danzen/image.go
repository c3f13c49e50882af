package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/danzen-gw/danzen/gokrazy/push"
	"github.com/danzen-gw/danzen/internal/msg"
)

// runImage: `danzen image push` sends a signed update bundle (made by
// `danzen-image -bundle`) to a gateway's page over HTTPS, trusting only
// the certificate pinned by its fingerprint, signed in as a vendor admin
// with the password typed again for the update; then it waits for the
// gateway to come back with the new build. The gateway verifies the
// vendor's signature before it writes anything.
func runImage(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 || args[0] != "push" {
		return badUsage("image")
	}
	fs := flag.NewFlagSet("image push", flag.ContinueOnError)
	fp := fs.String("cert-sha256", "", "the page certificate's SHA-256 fingerprint, as the page shows it under /tls (required)")
	user := fs.String("user", "", "a vendor admin of the gateway's page (required)")
	pwFile := fs.String("password-file", "", "read the password from this file (default: ask on the terminal)")
	wait := fs.Duration("wait", 10*time.Minute, "how long to wait for the gateway to come back with the new build")
	if err := fs.Parse(args[1:]); err != nil {
		return flagError(err)
	}
	if fs.NArg() != 2 || *fp == "" || *user == "" {
		return badUsage("image")
	}
	host, file := fs.Arg(0), fs.Arg(1)
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, "8443")
	}
	if _, err := push.ParseFingerprint(*fp); err != nil {
		return err
	}
	m, err := push.Manifest(file)
	if err != nil {
		return err
	}
	pw, err := readPassword(*pwFile, *user)
	if err != nil {
		return err
	}
	t := push.Target{URL: "https://" + host, CertSHA256: *fp, User: *user, Password: pw, Logger: c.log}
	c.out.sayf(host+": ", msg.Sprintf("ビルド %s (%s) を送信中。ゲートウェイが署名を確かめてから書き込みます…", "sending build %s (%s); the gateway checks its signature before writing…",
		m.Build.Format(time.RFC3339), m.Arch))
	if _, err := push.Push(ctx, t, file, *wait); err != nil {
		return err
	}
	c.out.sayf(host+": ", msg.Sprintf("新しいビルド %s で起動しました", "now runs build %s", m.Build.Format(time.RFC3339)))
	return nil
}

// readPassword reads the vendor admin's password from file, else from the
// terminal without echo; never from the command line (it would show in
// the process list and the shell's history).
func readPassword(file, user string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return "", msg.New("パスワードを入力する端末がありません。--password-file で指定してください", "no terminal to type the password on: give --password-file")
	}
	fmt.Fprintf(os.Stderr, "%s password: ", user)
	b, err := term.ReadPassword(int(os.Stdin.Fd()))
	fmt.Fprintln(os.Stderr)
	return string(b), err
}
