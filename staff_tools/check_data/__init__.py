"""Check the training data, answers and topic settings, with messages staff can act on.

    python -m staff_tools.check_data [--project DIR]

Every problem is printed as `path:line: what is wrong. How to fix: ...`; the command exits 1
if there is any, and 0 with a short "Data OK" summary otherwise. It reads the YAML files only
(no model; of Rasa it imports only the lists of its built-in intent and action names), so it
takes well under a second. `make validate` runs it first, before Rasa's own
`rasa data validate`, whose messages are harder to read.

One module per concern:

- `layout`: where the staff-edited files are, and the names the checks share;
- `report`: a problem, an example, the report and its summary;
- `yaml_nodes`, `yaml_errors`, `project`: reading YAML with line numbers, and its errors in
  plain words;
- `wording`: how examples are compared, texts quoted and close names suggested;
- `nlu`: the training examples and the held-out questions;
- `examples`: duplicate examples, and too few examples per intent or topic;
- `domain`: the domain's intents, actions and answers; answers without examples and examples
  without answers;
- `faq_topics`: `settings/faq_topics.yml` against the domain, validated by `clinic.topics`;
- `contact_details`: phone numbers and web addresses in answers;
- `rasa_names`, `stories`: rules and stories naming unknown intents or actions;
- `run` (every check in order) and `command` (the command line).
"""

from staff_tools.check_data.command import main
from staff_tools.check_data.layout import MIN_EXAMPLES
from staff_tools.check_data.report import Example, Problem, Report
from staff_tools.check_data.run import check_project
from staff_tools.check_data.wording import comparable

__all__ = ["MIN_EXAMPLES", "Example", "Problem", "Report", "check_project", "comparable", "main"]
