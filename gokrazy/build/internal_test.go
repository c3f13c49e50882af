package build

import (
	"bytes"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

func TestGokrazyShortName(t *testing.T) {
	for in, want := range map[string]string{
		"cmdline.txt":  "CMDLINE.TXT",
		"gokrazy.conf": "GOKRAZ~1.CON",
		"loader":       "LOADER",
		"entries":      "ENTRIES",
		"vmlinuz":      "VMLINUZ",
		"BOOTX64.EFI":  "BOOTX64.EFI",
		"longfilename": "LONGFI~1",
	} {
		if got := gokrazyShortName(in); got != want {
			t.Errorf("gokrazyShortName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGUIDBytes(t *testing.T) {
	// The ESP type GUID's on-disk form (UEFI spec, mixed endian).
	g, err := guidBytes("C12A7328-F81F-11D2-BA4B-00A0C93EC93B")
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0x28, 0x73, 0x2A, 0xC1, 0x1F, 0xF8, 0xD2, 0x11, 0xBA, 0x4B, 0x00, 0xA0, 0xC9, 0x3E, 0xC9, 0x3B}
	if !bytes.Equal(g[:], want) {
		t.Errorf("guidBytes = %x, want %x", g, want)
	}
	if _, err := guidBytes("not-a-guid"); err == nil {
		t.Error("accepted a malformed GUID")
	}
}

func TestKernelCmdline(t *testing.T) {
	cfg := &Config{Hostname: "danzen", SerialConsole: "ttyS0,115200", KernelExtraArgs: []string{"rootdelay=0"}}
	got, err := kernelCmdline(cfg, "root=/dev/sda2 ro init=/gokrazy/init panic=10 oops=panic rootdelay=10\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "console=tty1 console=ttyS0,115200 root=PARTUUID=60c24cc1-f3f9-427a-8199-578f8a250001/PARTNROFF=1 ro init=/gokrazy/init panic=10 oops=panic rootdelay=10 rootdelay=0"
	if got != want {
		t.Errorf("cmdline\n got %q\nwant %q", got, want)
	}
	cfg.SerialConsole = "disabled"
	if got, _ := kernelCmdline(cfg, "root=/dev/mmcblk0p2 rootwait"); strings.Contains(got, "ttyS0") {
		t.Errorf("disabled serial console still in %q", got)
	}
	if _, err := kernelCmdline(cfg, "root=/dev/nvme0n1p2"); err == nil {
		t.Error("accepted a cmdline.txt without a root= placeholder")
	}
}

func TestGenerateInit(t *testing.T) {
	src, err := generateInit("danzen-amd64/config.json", "2026-01-02T03:04:05Z", []initService{
		{Path: "/gokrazy/dhcp", Start: "start"},
		{Path: "/user/danzend", Args: []string{"-listen", `:8080 "quoted"`}, Env: []string{"TZ=Asia/Tokyo"}, Start: "waitforclock"},
		{Path: "/user/restic", Start: "dontstart"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "init.go", src, 0); err != nil {
		t.Fatalf("generated init does not parse: %v\n%s", err, src)
	}
	for _, want := range []string{
		"gokrazy.Boot(buildTimestamp)",
		"gokrazy.SuperviseServices(services)",
		`exec.Command("/user/danzend", "-listen", ":8080 \"quoted\"")`,
		`"TZ=Asia/Tokyo"`,
		"gokrazy.NewWaitForClockService(cmd)",
		"gokrazy.NewStoppedService(cmd)",
		"gokrazy.NewService(cmd)",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("generated init lacks %s:\n%s", want, src)
		}
	}
}

func TestBootFSSize(t *testing.T) {
	size, err := bootFSSize(60<<20, 500)
	if err != nil {
		t.Fatal(err)
	}
	if size < 60<<20 || size > bootSectors*sectorSize || size%(1<<20) != 0 {
		t.Errorf("bootFSSize(60 MiB) = %d", size)
	}
	if _, err := bootFSSize(120<<20, 10); err == nil {
		t.Error("accepted boot files larger than the boot partition")
	}
}
