package main

import (
	"context"
	"net"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/internal/msg"
)

// runHostKey shows the key a source's server offers, and pins it only
// when the operator passes the fingerprint they compared.
func runHostKey(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("hostkey")
	name := fs.String("source", "", "source name")
	accept := fs.String("accept", "", "pin the key with this SHA256 fingerprint")
	cfg, err := fs.load(args)
	if err != nil {
		return err
	}
	src, err := cfg.Source(*name)
	if err != nil {
		return err
	}
	key, err := pull.FetchHostKey(ctx, src.Host, src.Port)
	if err != nil {
		return err
	}
	fp := ssh.FingerprintSHA256(key)
	line := knownhosts.Line([]string{knownhosts.Normalize(net.JoinHostPort(src.Host, strconv.Itoa(src.Port)))}, key)
	c.out.say(msg.Sprintf("%s:%d のホスト鍵: %s %s", "host key of %s:%d: %s %s", src.Host, src.Port, key.Type(), fp))
	if *accept == "" {
		c.out.say(msg.Sprintf("サーバ管理者と指紋を照合してから --accept %s で登録してください",
			"compare the fingerprint with the server's administrator, then pin it with --accept %s", fp))
		return nil
	}
	if *accept != fp {
		return msg.Errorf("指紋が一致しません(指定 %s、サーバ %s)。登録していません", "fingerprint mismatch (given %s, server offers %s): nothing pinned", *accept, fp)
	}
	for _, l := range src.KnownHosts {
		if strings.TrimSpace(l) == line {
			c.out.say(msg.T("登録済みです", "already pinned"))
			return nil
		}
	}
	src.KnownHosts = append(src.KnownHosts, line)
	if err := config.Save(fs.config, cfg); err != nil {
		return err
	}
	c.out.say(msg.Sprintf("登録しました: %s", "pinned: %s", line))
	return nil
}
