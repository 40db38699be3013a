"""Answer to history (issue 21): observed series for China 2015-2020 (`data`), the mapping of model
outputs onto them and their scores (`score`), the `sim hindcast` command (`cli`) and the docs page
(`page`)."""
