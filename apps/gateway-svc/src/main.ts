// First: sets libuv's thread pool size before anything starts the pool.
import './threadpool-size';
import { systemTime } from '@swarm/determinism';
import { runServiceMain } from '@swarm/runtime';
import { loadGatewayConfig } from './config';
import { startGatewayService } from './service';

runServiceMain({
  name: 'gateway-svc',
  loadConfig: loadGatewayConfig,
  start: ({ config, log, nc }) => startGatewayService({ config, log, nc, time: systemTime }),
});
