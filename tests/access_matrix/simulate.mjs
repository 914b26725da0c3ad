// Evaluates a batch of IAM requests with @cloud-copilot/iam-simulate (dev-only, AGPL-3.0-or-later, not shipped).
// stdin: {"cases": [{"id": "...", "simulation": <iam-simulate Simulation>}, ...]}
// stdout: [{"id", "resultType", "overallResult", "ignoredContextKeys", "engine", "errors"}, ...], same order.
// One process for the whole matrix; the Python test (test_access_matrix.py) builds the cases and judges them.
import { createRequire } from 'node:module'
import { runSimulation } from '@cloud-copilot/iam-simulate'

// iam-simulate 0.1.173 keeps a variable context key only when its variable part follows a '/'
// (simulationEngine.js listHasVariableKeyMatch): kms:EncryptionContext:<key> with a key such as aws:s3:arn is
// dropped as "not applicable", so a condition on it could never hold (or always hold when negated). For requests
// whose only dropped keys are those, once runSimulation has validated every policy and every other key, the
// library's own core engine (CoreSimulatorEngine.authorize, the function runSimulation ends in) evaluates the
// request again with the context as given. runUnsafeSimulation would do that, but it loses the resource policy's
// name (a TypeError in 0.1.173) and every VPC endpoint policy, so it is rebuilt here from the same parts.
const require = createRequire(import.meta.url)
const cjs = (path) => require(new URL(`../../node_modules/@cloud-copilot/iam-simulate/dist/cjs/${path}`, import.meta.url).pathname)
const { authorize } = cjs('core_engine/CoreSimulatorEngine.js')
const { AwsRequestImpl } = cjs('request/request.js')
const { RequestContextImpl } = cjs('requestContext.js')
const { DiscoveryContextKeyConstraints } = cjs('context_keys/discoveryContextKeyConstraints.js')
const { loadPolicy } = require('@cloud-copilot/iam-policy')

const ENCRYPTION_CONTEXT_KEY = /^kms:EncryptionContext:.+:/i

function authorizeAsGiven(simulation) {
  const named = (list) => (list ?? []).map(({ name, policy }) => loadPolicy(policy, { name }))
  const { principal, action, resource, contextVariables } = simulation.request
  const analysis = authorize({
    request: new AwsRequestImpl(principal, resource, action, new RequestContextImpl(contextVariables), false),
    sessionPolicy: undefined,
    identityPolicies: named(simulation.identityPolicies),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: simulation.resourcePolicy ? loadPolicy(simulation.resourcePolicy, { name: 'resource' }) : undefined,
    permissionBoundaries: undefined,
    vpcEndpointPolicies: simulation.vpcEndpointPolicies ? named(simulation.vpcEndpointPolicies) : undefined,
    simulationParameters: { simulationMode: 'Strict', discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([]) },
    serviceSettings: { s3: { blockPublicAccess: undefined } }
  })
  return analysis.result
}

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const { cases } = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const results = []
for (const { id, simulation } of cases) {
  // Strict mode: the request is evaluated exactly as given; an absent context key is absent.
  const response = await runSimulation(simulation, { simulationMode: 'Strict' })
  if (response.resultType === 'error') {
    results.push({ id, resultType: 'error', overallResult: null, ignoredContextKeys: [], engine: null, errors: response.errors })
    continue
  }
  const ignored =
    response.resultType === 'single'
      ? response.result.ignoredContextKeys ?? []
      : response.results.flatMap((r) => r.ignoredContextKeys ?? [])
  const asGiven = ignored.length > 0 && ignored.every((key) => ENCRYPTION_CONTEXT_KEY.test(key))
  results.push({
    id,
    resultType: response.resultType,
    overallResult: asGiven ? authorizeAsGiven(simulation) : response.overallResult,
    ignoredContextKeys: asGiven ? [] : ignored,
    engine: asGiven ? 'CoreSimulatorEngine.authorize (encryption context as given)' : 'runSimulation',
    errors: null
  })
}
process.stdout.write(JSON.stringify(results))
