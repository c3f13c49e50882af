package main

import (
	"context"
	"errors"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/hostkey"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// runHostKey shows the key a source's (or a send-back target's) server
// offers beside what is pinned, and pins it only when the operator passes
// the fingerprint they compared. It works before the first pin, which
// every other command refuses.
func runHostKey(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("hostkey")
	source := fs.String("source", "", "source name")
	target := fs.String("target", "", "send-back target name (instead of --source)")
	accept := fs.String("accept", "", "pin the key with this SHA256 fingerprint")
	if err := fs.parse(args); err != nil {
		return err
	}
	cfg, err := config.LoadUnpinned(fs.config)
	if err != nil {
		return err
	}
	c.inZone(cfg)
	ref, acct, err := hostKeyAccount(cfg, *source, *target)
	if err != nil {
		return err
	}
	key, err := pull.FetchHostKey(ctx, acct.Host, acct.Port, hostkey.PinnedAlgorithms(acct.KnownHosts)...)
	if err != nil {
		return err
	}
	offer, err := hostkey.Compare(ref, acct.Host, acct.Port, acct.KnownHosts, key)
	if err != nil {
		return err
	}
	if err := offer.ReadPinTimes(cfg.LedgerDir); err != nil {
		c.errs.say(msg.Sprintf("登録日時は証跡台帳から読めません: %s", "when the keys were pinned cannot be read from the ledger: %s", msg.TextOf(err)))
	}
	showOffer(c.out, offer)
	switch {
	case *accept == "" && offer.Unchanged():
		return nil
	case *accept == "":
		c.out.say(acceptHint(offer))
		return nil
	case *accept != offer.Fingerprint:
		return msg.Errorf("指紋が一致しません(指定 %s、サーバ %s)。登録していません", "fingerprint mismatch (given %s, server offers %s): nothing pinned", *accept, offer.Fingerprint)
	case offer.Unchanged():
		return nil
	}
	return acceptOffer(ctx, c, fs.config, cfg.LedgerDir, offer)
}

// hostKeyAccount is the account --source or --target names, with its
// connection fields.
func hostKeyAccount(cfg *config.Config, source, target string) (config.AccountRef, config.Source, error) {
	switch {
	case (source == "") == (target == ""):
		return config.AccountRef{}, config.Source{}, usageError{msg.T("--source か --target のどちらか一つを指定してください", "give one of --source and --target")}
	case target != "":
		t, err := cfg.RestoreTarget(target)
		if err != nil {
			return config.AccountRef{}, config.Source{}, err
		}
		return config.AccountRef{Kind: config.AccountTarget, Name: target}, t.SSH(), nil
	}
	s, err := cfg.Source(source)
	if err != nil {
		return config.AccountRef{}, config.Source{}, err
	}
	return config.AccountRef{Kind: config.AccountSource, Name: source}, *s, nil
}

// acceptHint says how to accept the offer once it has been compared.
func acceptHint(o *hostkey.Offer) msg.Text {
	switch o.State {
	case hostkey.Changed:
		return msg.Sprintf("サーバ管理者と新しい指紋を照合してから --accept %s で置き換えてください(古い鍵は廃止されます)",
			"compare the new fingerprint with the server's administrator, then replace the pinned key with --accept %s (the old key is retired)", o.Fingerprint)
	case hostkey.Pinned:
		return msg.Sprintf("--accept %s でこの鍵だけを残し、他の鍵を廃止します", "--accept %s keeps this key only and retires the others", o.Fingerprint)
	}
	return msg.Sprintf("サーバ管理者と指紋を照合してから --accept %s で登録してください", "compare the fingerprint with the server's administrator, then pin it with --accept %s", o.Fingerprint)
}

// showOffer says what the server offers and what it is to the pinned
// keys: a first contact, pinned, or CHANGED with both fingerprints.
func showOffer(s *screen, o *hostkey.Offer) {
	s.say(msg.Sprintf("%s のホスト鍵: %s %s", "host key of %s: %s %s", o.Addr, o.Key.Type(), o.Fingerprint))
	switch o.State {
	case hostkey.First:
		s.say(msg.T("このアドレスにはまだ鍵が登録されていません(初回の登録)", "no key is pinned for this address yet (a first contact)"))
	case hostkey.Pinned:
		s.say(msg.T("この鍵は登録済みです", "this key is pinned"))
		if len(o.Retired) > 0 {
			s.say(msg.T("同じアドレスに他の鍵も登録されていて、同じく信頼されています(以前の置き換えの残り)。--accept でこの鍵だけを残します:",
				"other keys are pinned for this address too and are trusted as well (left by an earlier rotation); --accept keeps this key only:"))
		}
	case hostkey.Changed:
		s.alarm(msg.T("!!! ホスト鍵が変更されています (CHANGED) !!!", "!!! host key CHANGED !!!"))
		s.say(hostkey.ChangedWarning())
	}
	for _, k := range o.Retired {
		s.sayf("  ", msg.Sprintf("登録済み: %s %s(登録 %s)", "pinned:  %s %s (pinned %s)", k.Type, k.Fingerprint, pinnedWhen(s, k)))
	}
	if o.State == hostkey.Changed {
		s.sayf("  ", msg.Sprintf("提示された鍵: %s %s", "offered: %s %s", o.Key.Type(), o.Fingerprint))
	}
}

// pinnedWhen is when k was pinned, in the configured zone.
func pinnedWhen(s *screen, k hostkey.Key) msg.Text {
	if k.PinnedAt.IsZero() {
		return msg.T("日時不明: 証跡台帳に記録がありません", "unknown: not in the ledger")
	}
	return msg.Plain(s.zone.Stamp(k.PinnedAt))
}

// acceptOffer writes the accepted key list into the configuration file
// (nothing else in it changes) and records it in the ledger. The ledger
// is taken first: while danzend holds it, danzend also owns the
// configuration, and a change written under it would be lost.
func acceptOffer(ctx context.Context, c *cli, path, ledgerDir string, o *hostkey.Offer) error {
	l, err := ledger.Open(ledgerDir)
	if errors.Is(err, ledger.ErrInUse) {
		return msg.Errorf("%w。danzend の動作中は画面(設定 → %s → ホスト鍵を取得)で登録してください。登録していません",
			"%w: while danzend runs, pin it on the page (Configuration → %s → Fetch host key). Nothing pinned", err, o.Account.Name)
	}
	if err != nil {
		return msg.Errorf("証跡台帳を開けないため登録していません: %w", "the evidence ledger cannot be opened, so nothing was pinned: %w", err)
	}
	defer func() { _ = l.Close() }() // each append is synced; nothing more to keep at Close
	if err := config.SaveKnownHosts(path, o.Account, o.Accepted()); err != nil {
		return err
	}
	for _, e := range o.Entries("cli:" + osUser()) {
		if _, err := l.Append(ctx, e); err != nil {
			return msg.Errorf("鍵は登録しましたが、証跡台帳に記録できません: %w", "the key was pinned, but the evidence ledger could not record it: %w", err)
		}
	}
	if o.State == hostkey.First {
		c.out.say(msg.Sprintf("登録しました: %s", "pinned: %s", o.Fingerprint))
		return nil
	}
	c.out.say(msg.Sprintf("置き換えました: %s を登録し、%d 個の古い鍵を廃止しました(もう信頼しません)", "replaced: %s is pinned and %d old keys are retired (trusted no more)", o.Fingerprint, len(o.Retired)))
	return nil
}

// alarm writes t as one line, in bold red on a terminal.
func (s *screen) alarm(t msg.Text) {
	if s.tty {
		s.write("\x1b[1;31m" + t.Localize(s.lang) + "\x1b[0m\n")
		return
	}
	s.say(t)
}
