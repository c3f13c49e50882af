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

// serverAccount is step 2's side on the e-chart server: the one
// authorized_keys line, and the request sheet that asks its vendor for
// the account (Linux or Windows Server) and the answers the page needs.
func (b *builder) serverAccount(s *config.Source) []Block {
	l := b.l
	blocks := []Block{
		ptext(l.f("電子カルテサーバ %s(%s:%d)に、パスワードでログインできない専用アカウント %s を作り、読み取り専用の SFTP だけを許可します。この作業は電子カルテサーバの管理者(多くは電子カルテのベンダ)が行います。",
			"On e-chart server %s (%s:%d), a dedicated account %s that cannot log in with a password may only read over SFTP. The e-chart server's administrator (usually the e-chart vendor) does this.",
			s.Name, s.Host, s.Port, s.User)),
	}
	blocks = append(blocks, b.authorizedKeys(s)...)
	return append(blocks, ptext(l.f("本書末尾の%sを電子カルテのベンダに渡して依頼します(Linux と Windows Server の手順、回答欄)。回答(ホスト鍵の指紋など)が届いてから、次の画面の手順に進みます。",
		"Hand the %s at the end of this runbook to the e-chart vendor (the Linux and Windows Server steps, and the reply form). Go on with the page's steps below once the reply (the host key fingerprint and the rest) has come back.",
		l.t("「電子カルテベンダへの依頼書」", "“Request to the e-chart vendor”"))))
}

// serverAccountSteps are the exact lines for the e-chart server, on Linux
// and on Windows Server.
func (b *builder) serverAccountSteps(s *config.Source) []Block {
	l := b.l
	blocks := []Block{para(strong(l.t("Linux サーバ(OpenSSH)", "Linux server (OpenSSH)")))}
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

// linuxAccount is the account, its authorized_keys, the chroot and the
// sshd Match block. The commands are one block a root shell runs as it is
// (TestRunbookLinuxAccountLogsIn runs it against a real sshd): the home is
// /home/<user>, where sshd's default AuthorizedKeysFile
// (.ssh/authorized_keys under the home) finds the key before the chroot.
func (b *builder) linuxAccount(s *config.Source) []Block {
	l := b.l
	chroot := b.cfg.Documents.SFTPChroot
	if chroot == "" {
		return []Block{para(text("chroot: "), b.field("sftp_chroot"))}
	}
	acc := backup.SSHDAccount{User: s.User, Chroot: chroot, ExportDir: s.ExportDir, GatewayIP: b.gatewayIP()}
	return []Block{
		ptext(l.f("root で次をそのまま実行する。chroot %s とその親ディレクトリはすべて root 所有で、グループ・他者の書き込みを禁止します。鍵はホームの %s に置きます(sshd の既定の AuthorizedKeysFile が読む場所で、chroot の前に読まれます)。",
			"Run the following as root, as it stands. The chroot %s and all its parents must be owned by root and not group- or world-writable. The key goes into the home's %s (where sshd's default AuthorizedKeysFile reads it, before the chroot).",
			chroot, linuxKeysFile(s.User))),
		codeBlock(b.linuxAccountCommands(s, chroot)),
		ptext(l.f("電子カルテのエクスポート先を %s%s に読み取り専用でbindマウントし(/etc/fstab に bind,ro で登録)、%s が読めるようにする。", "Bind-mount the e-chart's export directory read-only onto %s%s (a bind,ro line in /etc/fstab) so that %s can read it.", chroot, s.ExportDir, s.User)),
		ptext(l.t("/etc/ssh/sshd_config の末尾に次を追加する(自動試験で実際のsshdに使っているものと同じ内容):", "Append to /etc/ssh/sshd_config (the same block the automated tests run a real sshd with):")),
		codeBlock(backup.SSHDMatchBlock(acc)),
		para(text(l.t("確認して再読み込みする: ", "Check and reload: ")), code("sshd -t && systemctl reload ssh")),
	}
}

// linuxKeysFile is where sshd's default AuthorizedKeysFile finds user's
// key: under the home the account is created with.
func linuxKeysFile(user string) string { return "/home/" + user + "/.ssh/authorized_keys" }

// linuxAccountCommands are the root shell's commands: the account with its
// home, the chroot, and (when the gateway's key and address are known) the
// authorized_keys line written in place.
func (b *builder) linuxAccountCommands(s *config.Source, chroot string) string {
	u, keys := s.User, linuxKeysFile(s.User)
	lines := []string{
		fmt.Sprintf("useradd --system --create-home --home-dir /home/%s --shell /usr/sbin/nologin %s", u, u),
		fmt.Sprintf("usermod -p '*' %s", u),
		fmt.Sprintf("install -d -o root -g root -m 755 %s %s%s", chroot, chroot, s.ExportDir),
		fmt.Sprintf("install -d -o %s -m 700 /home/%s/.ssh", u, u),
	}
	if pub, ok := b.in.PublicKeys[s.Name]; ok && b.gatewayIP() != "" {
		acc := backup.SSHDAccount{User: u, GatewayIP: b.gatewayIP()}
		lines = append(lines, "cat > "+keys+" <<'EOF'", backup.AuthorizedKeysLine(acc, pub), "EOF")
	} else {
		lines = append(lines, "touch "+keys)
	}
	return strings.Join(append(lines, fmt.Sprintf("chown %s %s", u, keys), "chmod 600 "+keys), "\n")
}

// windowsChroot is the folder the Windows Server account is chrooted to;
// the export lies below it at the source's SFTP path.
const windowsChroot = `C:\danzen-sftp`

// windowsAccount is the same account on Windows Server's built-in OpenSSH
// (Win32-OpenSSH 7.7 and later: ChrootDirectory with ForceCommand
// internal-sftp): a local standard user whose key lies in its own profile
// (an administrator's would be read from administrators_authorized_keys
// instead), an NTFS read-only export and a firewall rule for the gateway.
func (b *builder) windowsAccount(s *config.Source) []Block {
	l, u := b.l, s.User
	userFile := `C:\Users\` + u + `\.ssh\authorized_keys`
	adminFile := `C:\ProgramData\ssh\administrators_authorized_keys`
	export := windowsChroot + strings.ReplaceAll(s.ExportDir, "/", `\`)
	ip := b.gatewayIP()
	if ip == "" {
		ip = "<" + l.t("ゲートウェイのIPアドレス", "the gateway's IP address") + ">"
	}
	keyLine := "<" + l.t("上の authorized_keys の1行", "the authorized_keys line above") + ">"
	if pub, ok := b.in.PublicKeys[s.Name]; ok && b.gatewayIP() != "" {
		keyLine = backup.AuthorizedKeysLine(backup.SSHDAccount{User: u, GatewayIP: ip}, pub)
	}
	install := strings.Join([]string{
		"Add-WindowsCapability -Online -Name OpenSSH.Server~~~~0.0.1.0",
		"Set-Service -Name sshd -StartupType Automatic",
		"Start-Service sshd",
		"$pw = Read-Host -AsSecureString",
		fmt.Sprintf(`New-LocalUser -Name %s -Password $pw -PasswordNeverExpires -UserMayNotChangePassword -Description "SFTP read-only account of the backup gateway"`, u),
		fmt.Sprintf("Add-LocalGroupMember -Group Users -Member %s", u),
		fmt.Sprintf("runas /user:%s cmd", u),
	}, "\n")
	keys := strings.Join([]string{
		fmt.Sprintf(`New-Item -ItemType Directory -Force C:\Users\%s\.ssh`, u),
		fmt.Sprintf("Set-Content -Path %s -Encoding ascii -Value '%s'", userFile, keyLine),
		fmt.Sprintf(`icacls %s /inheritance:r /grant "%s:R" /grant "SYSTEM:F" /grant "Administrators:F"`, userFile, u),
		fmt.Sprintf("New-Item -ItemType Directory -Force %s", export),
		fmt.Sprintf(`icacls %s /inheritance:r /grant "SYSTEM:(OI)(CI)F" /grant "Administrators:(OI)(CI)F" /grant "%s:(OI)(CI)RX"`, windowsChroot, u),
		fmt.Sprintf("Set-NetFirewallRule -Name OpenSSH-Server-In-TCP -RemoteAddress %s", ip),
		"Get-LocalGroupMember -Group Administrators",
	}, "\n")
	match := strings.Join([]string{
		"Match User " + u,
		"    ChrootDirectory " + windowsChroot,
		"    ForceCommand internal-sftp -R -d " + s.ExportDir,
		"    AuthenticationMethods publickey",
		"    PasswordAuthentication no",
		"    AllowTcpForwarding no",
		"    AllowAgentForwarding no",
		"    PermitTTY no",
		"    X11Forwarding no",
	}, "\n")
	return []Block{
		ptext(l.f("Windows Server 2019 以降には OpenSSH サーバが組み込まれています(Win32-OpenSSH。ChrootDirectory と ForceCommand internal-sftp による SFTP 専用アカウントは 7.7 以降で使えます)。管理者として開いた PowerShell で、次の行をそのまま入力します。パスワードは Read-Host で聞かれます。長い乱数にし、runas で一度ログオンしたあとは控えません(鍵でだけ使うアカウントです)。runas で開いたウィンドウは exit で閉じます。そのときフォルダ C:\\Users\\%s が作られます。",
			"Windows Server 2019 and later include the OpenSSH Server (Win32-OpenSSH; an SFTP-only account with ChrootDirectory and ForceCommand internal-sftp works from 7.7 on). In PowerShell run as administrator, type these lines as they stand. Read-Host asks for the password: make it a long random one and do not keep it after the one runas logon (the account is used with its key only). Close the window runas opens with exit; that logon creates the folder C:\\Users\\%s.", u)),
		codeBlock(install),
		ptext(l.f("鍵・エクスポートのフォルダ・ファイアウォール。鍵のファイルは ASCII で書きます(Windows PowerShell 5 のリダイレクトや Out-File は UTF-16 で書くため、sshd が読めません)。エクスポートのフォルダ %s には %s の読み取りだけを許可し、継承を切ります(C:\\ 直下の既定の継承では Authenticated Users が変更できてしまいます)。電子カルテのエクスポートを書き込むアカウントには、同じ icacls で :(OI)(CI)M を追加してください。ファイアウォールは、OpenSSH サーバの導入で作られる規則 OpenSSH-Server-In-TCP をゲートウェイのアドレスだけに絞ります(ほかに SSH を使う管理PCがあれば、そのアドレスをカンマで続けます)。最後の行の一覧に %s がないことを確かめます。",
			"The key, the export folder and the firewall. The key file is written as ASCII (Windows PowerShell 5's redirection and Out-File write UTF-16, which sshd does not read). The export folder %s allows %s to read only, with inheritance removed (the default inheritance under C:\\ lets Authenticated Users modify). Give the account that writes the e-chart export :(OI)(CI)M with the same icacls. The firewall rule OpenSSH-Server-In-TCP, made when the OpenSSH Server is installed, is narrowed to the gateway's address (add the addresses of other admin PCs that use SSH, separated by commas). The last line's list must not contain %s.",
			export, u, u)),
		codeBlock(keys),
		para(text(l.f("%s は Administrators に入れません。Windows の既定の sshd_config は Administrators のメンバーの鍵を ", "%s is never a member of Administrators: Windows' default sshd_config reads the keys of Administrators' members only from ", u)),
			code(adminFile), text(l.t(" からだけ読み(Match Group administrators)、本人の ", " (Match Group administrators) and ignores their own ")), code(userFile),
			text(l.t(" を無視するため、「Permission denied (publickey)」になります。そのファイルは使いません。", ", which gives \"Permission denied (publickey)\". That file is not used here."))),
		para(code(`C:\ProgramData\ssh\sshd_config`), text(l.t(" の末尾(既存の Match Group administrators の後)に次を追加し、構文を確かめてから再起動する:", ": append the block below after the existing Match Group administrators block, then check the syntax and restart:"))),
		codeBlock(match),
		codeBlock(`& "$env:windir\System32\OpenSSH\sshd.exe" -t` + "\nRestart-Service sshd"),
	}
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
