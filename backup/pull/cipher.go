package pull

import (
	"runtime"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/cpu"
)

// cpuFeatures are the instructions AES-GCM's speed depends on: AES rounds
// and the carry-less multiply that GHASH needs (PCLMULQDQ on amd64, PMULL
// on arm64). Go uses its fast AES-GCM only when it has both.
type cpuFeatures struct {
	AES, CarrylessMul bool
}

// hostFeatures reads the running CPU's features. x/sys/cpu honours
// GODEBUG=cpu.aes=off (it parses GODEBUG at start, as the runtime does),
// so that setting gives a Pi 4's choice on any machine: the benchmarks'
// -no-aes mode relies on it.
func hostFeatures() cpuFeatures {
	switch runtime.GOARCH {
	case "amd64":
		return cpuFeatures{AES: cpu.X86.HasAES, CarrylessMul: cpu.X86.HasPCLMULQDQ}
	case "arm64":
		return cpuFeatures{AES: cpu.ARM64.HasAES, CarrylessMul: cpu.ARM64.HasPMULL}
	}
	// Elsewhere assume software AES: chacha20-poly1305 is then both
	// faster and free of AES's table-lookup timing.
	return cpuFeatures{}
}

// cipherOrder is the SSH cipher preference for a CPU (the client's order
// decides what OpenSSH negotiates). With AES instructions AES-128-GCM
// comes first: x/crypto's chacha20 has no amd64 assembly and costs 45–65%
// more CPU. Without them (the Raspberry Pi 4's Cortex-A72) Go's AES-GCM
// falls to about 0.11 GB/s on this project's proxy while
// chacha20-poly1305 keeps 1.5–2.4 GB/s, so chacha20 comes first. The AES
// modes stay in the list for servers that offer nothing else.
func cipherOrder(f cpuFeatures) []string {
	if f.AES && f.CarrylessMul {
		return []string{ssh.CipherAES128GCM, ssh.CipherAES256GCM, ssh.CipherChaCha20Poly1305, ssh.CipherAES128CTR, ssh.CipherAES256CTR}
	}
	return []string{ssh.CipherChaCha20Poly1305, ssh.CipherAES128GCM, ssh.CipherAES256GCM, ssh.CipherAES128CTR, ssh.CipherAES256CTR}
}

// Ciphers is the SSH cipher preference a pull offers on this machine,
// most preferred first (benchmarks print it beside what was negotiated).
func Ciphers() []string { return cipherOrder(hostFeatures()) }
