// The Fargate runner's entry point. Filled in by the runner issue.
import { loadRunnerSettings } from './settings';
import { parseRunRequest } from './request';

const settings = loadRunnerSettings();
const request = parseRunRequest(settings.RUN_REQUEST);
console.error(
  `snowwhite runner: ${request.action} ${request.envPattern} ${request.application} ${request.region}`,
);
