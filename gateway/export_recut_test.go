package gateway

// WithJobLock runs fn while holding the job lock, so no cut retry is
// under way meanwhile (a test clears a fault between two retries).
func (g *Gateway) WithJobLock(fn func()) {
	g.job.Lock()
	defer g.job.Unlock()
	fn()
}
