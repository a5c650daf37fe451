// Start a real Bluesky stack (PLC, PDS, AppView, and the services the AppView needs) on localhost with
// @atproto/dev-env, print one JSON line {"pds", "appview", "plc"} on stdout, and run until stdin closes or
// SIGTERM/SIGINT arrives. Postgres and Redis are not started here: DB_POSTGRES_URL and REDIS_HOST name them
// (the Python fixture in tests/integration/devenv.py starts both on free ports).
import { TestNetwork } from '@atproto/dev-env'

const network = await TestNetwork.create({
  dbPostgresSchema: process.env.DB_POSTGRES_SCHEMA || 'peerdesk',
  pds: { hostname: 'localhost', enableDidDocWithSession: true },
})

let closing = false
async function stop(code) {
  if (closing) return
  closing = true
  try {
    await network.close()
  } catch (err) {
    console.error(`dev-env: close failed: ${err}`)
  }
  process.exit(code)
}

process.on('SIGTERM', () => stop(0))
process.on('SIGINT', () => stop(0))
process.stdin.on('end', () => stop(0))
process.stdin.resume()

console.log(JSON.stringify({ pds: network.pds.url, appview: network.bsky.url, plc: network.plc.url }))
