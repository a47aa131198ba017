/** The shape of one Ajv error, as the compiled standalone validators report it. */
export interface CompiledValidatorError {
  instancePath: string;
  /** Not emitted by the compiled validators (nothing reads it, and it is a tenth of their size). */
  schemaPath?: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** A validator compiled from the spec at build time (Ajv standalone code). */
export interface CompiledValidator {
  (data: unknown): boolean;
  errors?: CompiledValidatorError[] | null;
}
