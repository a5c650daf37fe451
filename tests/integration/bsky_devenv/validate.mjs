// Validate records against the official lexicons that @atproto/api ships. Reads a JSON array of
// {"collection", "uri", "value"} on stdin and prints a JSON array of {"uri", "ok", "error"}: the Python tests
// send what they read back from the PDS, so a record peerdesk wrote is checked by the reference validator.
import { schemas } from '@atproto/api'
import { Lexicons, jsonToLex } from '@atproto/lexicon'

const lexicons = new Lexicons(schemas)
let input = ''
process.stdin.setEncoding('utf8')
for await (const chunk of process.stdin) input += chunk
const results = JSON.parse(input).map(({ collection, uri, value }) => {
  try {
    lexicons.assertValidRecord(collection, jsonToLex(value))
    return { uri, ok: true, error: null }
  } catch (err) {
    return { uri, ok: false, error: String(err.message || err) }
  }
})
console.log(JSON.stringify(results))
