package graphqlws

import (
	"runtime"
	"sync"
)

// workPool runs deliveries on a bounded number of goroutines that exist only while there is
// work: a change watched by ten thousand subscribers is executed by a few workers in turn, not
// by ten thousand goroutines at once, and an idle server keeps none.
type workPool struct {
	mu      sync.Mutex
	queue   []func()
	running int
}

// poolWorkers bounds the workers. Deliveries are mostly CPU (executing and marshalling a result;
// writes go to each connection's own writer), with an occasional database read by a field.
var poolWorkers = max(16, 4*runtime.GOMAXPROCS(0))

func (p *workPool) submit(job func()) {
	p.mu.Lock()
	p.queue = append(p.queue, job)
	start := p.running < poolWorkers
	if start {
		p.running++
	}
	p.mu.Unlock()
	if start {
		go p.work()
	}
}

func (p *workPool) work() {
	for {
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.queue = nil // let a burst's backing array go
			p.running--
			p.mu.Unlock()
			return
		}
		job := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		p.mu.Unlock()
		job()
	}
}
