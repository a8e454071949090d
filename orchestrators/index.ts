/**
 * Registers the orchestrators and, through their imports, every activity. Imported by the
 * app's entry point (functions/index.ts). Activities need their dependencies provided
 * (activities/deps.ts provideActivityDeps) before the first one runs.
 */
import './workflowOrchestrator';
import './jobOrchestrator';
import './cleanupOrchestrator';
