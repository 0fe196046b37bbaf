// The path scenario files import `defineScenario` from (docs/contracts.md, "Scenarios"): the
// scenario contract itself lives with the other contracts, in bench/contracts/scenario.ts.
export { defineScenario, type Scenario, type ScenarioInput } from './contracts/scenario.ts'
