export {
  type CheckerRegistrationInput,
  type TransactionCheck,
  type TransactionCheckAnswer,
  TransactionChecker,
  type TransactionCheckerOptions,
} from './transaction-checker.ts';
export { TRANSACTION_CHECKERS_TOPIC, TRANSACTION_CHECKS_TOPIC, decodeCheckEvent, type CheckEvent } from './txn-check-format.ts';
