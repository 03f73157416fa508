/** The preview lives with the runner, so that the command line shows the same one. */
export { previewTargets, type TargetEnvironment, type TargetPreview } from '../../runner/aws/environments';
