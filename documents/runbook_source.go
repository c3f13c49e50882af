package documents

import (
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/config"
)

// Commissioning step 2, per source: the e-chart server's read-only
// account (what its administrator sets up, on Linux or Windows Server),
// then the page's part: the gateway's key and its authorized_keys line,
// the host key's first contact, and the test listing.

// Where the e-chart server keeps its ed25519 host key, for the fingerprint
// its administrator reads out.
const (
	linuxHostKey   = "/etc/ssh/ssh_host_ed25519_key.pub"
	windowsHostKey = `C:\ProgramData\ssh\ssh_host_ed25519_key.pub`
)

func (b *builder) sourceSections() []Section {
	l := b.l
	var out []Section
	for i := range b.cfg.Sources {
		s := &b.cfg.Sources[i]
		out = append(out,
			Section{Title: l.f("導入手順2: 取得元 %s — 電子カルテサーバの読み取り専用アカウント", "Commissioning step 2: source %s — the e-chart server's read-only account", s.Name),
				NewPage: i == 0, Blocks: b.serverAccount(s)},
			Section{Title: l.f("導入手順2: 取得元 %s — 画面での鍵・ホスト鍵・テスト", "Commissioning step 2: source %s — key, host key and test on the page", s.Name),
				Blocks: b.sourceOnPage(s)})
	}
	if len(b.cfg.Sources) == 0 {
		out = append(out, Section{Title: l.t("導入手順2: 取得元(電子カルテサーバ)", "Commissioning step 2: the e-chart source"), NewPage: true, Blocks: []Block{
			note(bad(l.f("取得元が設定されていません。画面の%sで追加してください。", "No source is configured: add it on the page with %s.", l.path(l.q(pageGroupSource), l.q(pageAddSource))))),
		}})
	}
	return out
}

// serverAccount is what the e-chart server's administrator sets up: the
// account, its one authorized_keys line, on Linux and on Windows Server.
func (b *builder) serverAccount(s *config.Source) []Block {
	l := b.l
	blocks := []Block{
		ptext(l.f("電子カルテサーバ %s(%s:%d)に、パスワードでログインできない専用アカウント %s を作り、読み取り専用の SFTP だけを許可します。次の作業は電子カルテサーバの管理者が行います。",
			"On e-chart server %s (%s:%d), a dedicated account %s that cannot log in with a password may only read over SFTP. The e-chart server's administrator does the following.",
			s.Name, s.Host, s.Port, s.User)),
	}
	blocks = append(blocks, b.authorizedKeys(s)...)
	blocks = append(blocks, para(strong(l.t("Linux サーバ(OpenSSH)", "Linux server (OpenSSH)"))))
	blocks = append(blocks, b.linuxAccount(s)...)
	blocks = append(blocks, para(strong(l.t("Windows Server(Windows Server 2019 以降に組み込みの OpenSSH サーバ)", "Windows Server (the OpenSSH Server built into Windows Server 2019 and later)"))))
	return append(blocks, b.windowsAccount(s)...)
}

// authorizedKeys is the one line the administrator adds: the gateway's
// key, usable only from the gateway's address.
func (b *builder) authorizedKeys(s *config.Source) []Block {
	l := b.l
	pub, ok := b.in.PublicKeys[s.Name]
	ip := b.gatewayIP()
	switch {
	case !ok:
		return []Block{note(bad(l.f("取得元 %s の鍵がまだありません。画面の%sで最初に保存すると鍵が作られ、authorized_keys の行が表示されます。そのあと本書を再生成してください。",
			"Source %s has no key yet: the first save on the page (%s) makes it and shows the authorized_keys line; then regenerate this document.",
			s.Name, l.path(l.q(pageGroupSource), l.qf(pageSourceStep, s.Name)))))}
	case ip == "":
		return []Block{para(text(l.t("authorized_keys の行はゲートウェイのIPアドレスが必要です: ", "The authorized_keys line needs the gateway's IP address: ")), b.gatewayAddr()),
			ptext(l.t("ゲートウェイの公開鍵:", "The gateway's public key:")), codeBlock(pub)}
	}
	acc := backup.SSHDAccount{User: s.User, GatewayIP: ip}
	return []Block{
		ptext(l.f("取得用アカウントの authorized_keys に次の1行を書く(ゲートウェイのアドレスからだけ使える鍵。画面の%sに表示される行と同じです):",
			"Put this one line in the pull account's authorized_keys (the key works only from the gateway's address; it is the line the page shows under %s):", l.q(pageKeySection))),
		codeBlock(backup.AuthorizedKeysLine(acc, pub)),
	}
}

// linuxAccount is the tested account, chroot and sshd Match block.
func (b *builder) linuxAccount(s *config.Source) []Block {
	l := b.l
	chroot := b.cfg.Documents.SFTPChroot
	if chroot == "" {
		return []Block{para(text("chroot: "), b.field("sftp_chroot"))}
	}
	acc := backup.SSHDAccount{User: s.User, Chroot: chroot, ExportDir: s.ExportDir, GatewayIP: b.gatewayIP()}
	return []Block{
		ptext(l.f("chroot %s とその親ディレクトリはすべて root 所有で、グループ・他者の書き込みを禁止します。", "The chroot %s and all its parents must be owned by root and not group- or world-writable.", chroot)),
		codeBlock(strings.Join([]string{
			fmt.Sprintf("useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin %s", s.User),
			fmt.Sprintf("usermod -p '*' %s", s.User),
			fmt.Sprintf("install -d -o root -g root -m 755 %s %s%s", chroot, chroot, s.ExportDir),
			fmt.Sprintf("install -d -o %s -m 700 /home/%s/.ssh", s.User, s.User),
		}, "\n")),
		ptext(l.f("電子カルテのエクスポート先を %s%s に読み取り専用でbindマウントし(/etc/fstab に bind,ro で登録)、%s が読めるようにする。", "Bind-mount the e-chart's export directory read-only onto %s%s (a bind,ro line in /etc/fstab) so that %s can read it.", chroot, s.ExportDir, s.User)),
		ptext(l.t("/etc/ssh/sshd_config の末尾に次を追加する(自動試験で実際のsshdに使っているものと同じ内容):", "Append to /etc/ssh/sshd_config (the same block the automated tests run a real sshd with):")),
		codeBlock(backup.SSHDMatchBlock(acc)),
		para(text(l.t("sshd_config の AuthorizedKeysFile がホームの .ssh/authorized_keys を指す場合: ", "Where AuthorizedKeysFile points at the home's .ssh/authorized_keys: ")), code(fmt.Sprintf("/home/%s/.ssh/authorized_keys", s.User))),
		para(text(l.t("確認して再読み込みする: ", "Check and reload: ")), code("sshd -t && systemctl reload ssh")),
	}
}

// windowsAccount: where Win32-OpenSSH reads the line from (the user's own
// file, or the administrators' file for members of Administrators), with
// the ACLs it insists on.
func (b *builder) windowsAccount(s *config.Source) []Block {
	l, u := b.l, s.User
	userFile := `C:\Users\` + u + `\.ssh\authorized_keys`
	adminFile := `C:\ProgramData\ssh\administrators_authorized_keys`
	return []Block{steps(
		titem(l.f("%s はローカルの標準ユーザーにし、Administrators グループには入れない(読み取りだけのアカウントです)。", "Make %s a local standard user, never a member of Administrators (it only reads).", u)),
		item(text(l.t("フォルダ ", "The folder ")), code(`C:\Users\`+u), text(l.t(" はアカウントが一度ログオンしたときに作られる。先に一度ログオンしてから(例: ", " is made when the account first logs on: log on once first (e.g. ")),
			code("runas /user:"+u+" cmd"), text(l.t(")、その中に .ssh を作る。", "), then make .ssh in it."))),
		item(text(l.t("標準ユーザーの鍵は、そのアカウント自身のファイルに書く: ", "A standard user's key goes into the account's own file: ")), code(userFile),
			text(l.t("。ASCII(BOM なしの UTF-8)で保存する(Windows PowerShell 5 のリダイレクトや Out-File は UTF-16 で書くため、sshd が読めません)。", ". Save it as ASCII (UTF-8 without BOM): Windows PowerShell 5's redirection and Out-File write UTF-16, which sshd does not read."))),
		item(text(l.t("このファイルは本人・SYSTEM・Administrators だけが読めるようにする(継承を切る): ", "Only the account, SYSTEM and Administrators may read the file (inheritance removed): ")),
			code(fmt.Sprintf(`icacls %s /inheritance:r /grant "%s:R" /grant "SYSTEM:F" /grant "Administrators:F"`, userFile, u))),
		item(text(l.t("Administrators のメンバーについては、Windows の既定の sshd_config(Match Group administrators)が本人のファイルを無視し、次のファイルだけを読みます: ", "For a member of Administrators, Windows' default sshd_config (Match Group administrators) ignores the account's own file and reads only ")),
			code(adminFile), text(l.t("(ACL は ", " (ACL: ")), code(fmt.Sprintf(`icacls %s /inheritance:r /grant "Administrators:F" /grant "SYSTEM:F"`, adminFile)),
			text(l.t(")。本人のファイルに書いた行はそのとき使われず、「Permission denied (publickey)」になります。このファイルを使わず、アカウントを Administrators から外してください。",
				"). A line in the account's own file is then never used (\"Permission denied (publickey)\"): take the account out of Administrators rather than use this file."))),
		item(text(l.f("エクスポートのフォルダ(SFTP のパス %s)には読み取りだけを許可する: ", "Allow only reading on the export folder (SFTP path %s): ", s.ExportDir)),
			code(fmt.Sprintf(`icacls <%s> /grant "%s:(OI)(CI)RX"`, l.t("フォルダ", "folder"), u))),
		item(code(`C:\ProgramData\ssh\sshd_config`), text(l.t(" の末尾に次を追加し、再起動する: ", ": append the block below and restart: ")), code("Restart-Service sshd")),
	), codeBlock(fmt.Sprintf("Match User %s\n    ForceCommand internal-sftp\n    PasswordAuthentication no\n    AllowTcpForwarding no\n    PermitTTY no\n    X11Forwarding no", u))}
}

// sourceOnPage is the page's part of step 2, with the fingerprints pinned.
func (b *builder) sourceOnPage(s *config.Source) []Block {
	l := b.l
	fields := kv([2]string{l.t("画面の項目", "field on the page"), l.t("設定値", "value")},
		pair(l.t("名前", "name"), code(s.Name)), pair(l.t("ホスト", "host"), code(s.Host)), pair(l.t("ポート", "port"), code(fmt.Sprint(s.Port))),
		pair(l.t("アカウント", "account"), code(s.User)), pair(l.t("エクスポートのフォルダ", "export directory"), code(s.ExportDir)))
	var rows [][]Cell
	for _, line := range s.KnownHosts {
		_, hosts, key, _, _, err := ssh.ParseKnownHosts([]byte(line))
		if err != nil {
			continue
		}
		rows = append(rows, []Cell{tcell(strings.Join(hosts, ",")), tcell(key.Type()), cell(code(ssh.FingerprintSHA256(key)))})
	}
	return []Block{
		ptext(l.f("画面: %s(新しい取得元は%s)。次の値を入力する:", "On the page: %s (a new source: %s). Enter:",
			l.path(l.q(pageGroupSource), l.qf(pageSourceStep, s.Name)), l.q(pageAddSource))),
		fields,
		steps(
			titem(l.f("%sを押す。最初の保存で、ゲートウェイがこの取得元の ed25519 鍵を作ります。秘密鍵はゲートウェイの外に出ません。", "Press %s. The first save makes the gateway's ed25519 key for this source; the private key never leaves the gateway.", l.q(pageSaveApply))),
			titem(l.f("%sに authorized_keys の行が、ゲートウェイが電子カルテサーバへ接続するときのアドレスを from= に入れて表示されます。間に NAT があるときは、サーバから見えるアドレスを入力し直す。この行を電子カルテサーバの管理者に渡す(前節の行と同じです)。",
				"Under %s the page shows the authorized_keys line, with from= filled in with the address the gateway reaches the server from; where NAT lies between, enter the address the server sees instead. Hand this line to the e-chart server's administrator (it is the line of the section before).", l.q(pageKeySection))),
			item(text(l.t("ホスト鍵の初回接続: 電子カルテサーバの管理者が、サーバ上で指紋を読み上げる(Linux: ", "Host key, first contact: the e-chart server's administrator reads out the fingerprint on the server (Linux: ")),
				code("ssh-keygen -lf "+linuxHostKey), text(l.t("、Windows: ", ", Windows: ")), code("ssh-keygen -lf "+windowsHostKey), text(")")),
			titem(l.f("%sを押し、表示された指紋が読み上げられた指紋と一致することを確かめてから、%sにチェックを入れて%sを押す。登録した鍵と違う鍵を示すサーバからは取得しません。",
				"Press %s, compare the fingerprint shown with the one read out, and only if they match tick %s and press %s. A server that offers any other key is never pulled from.",
				l.q(pageFetchHostKey), l.q(pagePinConfirm), l.q(pageSaveApply))),
			titem(l.f("%[2]sの%[1]sを押す。接続して、取得されるファイル・未完了のファイル・対象外のファイルを一覧します(何も書き込みません)。電子カルテのベンダが言うエクスポートの中身と照らし合わせる。",
				"Press %s under %s: it connects and lists the files that would be pulled, those still pending and those left out, writing nothing. Compare the list with what the e-chart vendor says the export holds.",
				l.q(pageTest), l.q(pageTestSection))),
		),
		table([]string{l.t("ホスト", "host"), l.t("鍵の種類", "key type"), l.t("登録済みの指紋", "pinned fingerprint")}, rows,
			l.t("ホスト鍵はまだ登録されていません。上の手順で確認して登録してください。", "No host key is pinned yet: confirm and pin it as above.")),
	}
}
