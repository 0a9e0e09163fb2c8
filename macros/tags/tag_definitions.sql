{#- The tag registry: every customer tag is declared here, once. A declaration names the
    tag, its kind (statistical: counted from facts; rule: a business rule over them;
    predictive: a model's score), what it means, who owns it, its value type, how often it
    refreshes, and where its value comes from: a `model` (any dbt model or seed with one
    row per customer_id), or a dbt `source` ([source, table]) for a table written outside
    dbt, and either a `column` of it or an `expression` over its columns. `history: false`
    keeps a tag out of customer_tag_history: for a value that moves with the calendar alone
    (days since the last purchase changes for every buyer every day; last_purchase_at has
    its history), which would add a version per buyer per day.
    customer_tags, customer_tags_wide and tag_catalog are generated from this list;
    docs/adding-a-tag.md shows how to add one. -#}
{% macro tag_definitions() %}
{%- set declarations -%}
# statistical: counted from orders and behaviour (customer_metrics)
- {name: lifetime_value, kind: statistical, value_type: number, owner: crm-analytics, refresh: daily, model: customer_metrics, column: lifetime_value,
   description: "Net spend in CNY, online and in store: paid orders only, refunds and cancellations count nothing."}
- {name: order_count, kind: statistical, value_type: integer, owner: crm-analytics, refresh: daily, model: customer_metrics, column: order_count,
   description: "Paid orders, online and in store."}
- {name: average_order_value, kind: statistical, value_type: number, owner: crm-analytics, refresh: daily, model: customer_metrics, column: average_order_value,
   description: "Lifetime value / order count, CNY, rounded half up to the fen."}
- {name: first_purchase_at, kind: statistical, value_type: timestamp, owner: crm-analytics, refresh: daily, model: customer_metrics, column: first_purchase_at,
   description: "First paid order (UTC)."}
- {name: last_purchase_at, kind: statistical, value_type: timestamp, owner: crm-analytics, refresh: daily, model: customer_metrics, column: last_purchase_at,
   description: "Latest paid order (UTC)."}
- {name: days_since_last_purchase, kind: statistical, value_type: integer, owner: crm-analytics, refresh: daily, model: customer_metrics, column: days_since_last_purchase, history: false,
   description: "Days from the latest paid order's date to the as-of date."}
- {name: purchase_interval_days, kind: statistical, value_type: number, owner: crm-analytics, refresh: daily, model: customer_metrics, column: purchase_interval_days, scale: 1,
   description: "Average days between paid orders (first to last / orders - 1); two orders at least."}
- {name: refunded_order_count, kind: statistical, value_type: integer, owner: crm-analytics, refresh: daily, model: customer_metrics, column: refunded_order_count,
   description: "Online orders refunded."}
- {name: favourite_category, kind: statistical, value_type: text, owner: merchandising, refresh: daily, model: customer_metrics, column: favourite_category,
   description: "Product category with the most paid online spend."}
- {name: preferred_channel, kind: statistical, value_type: text, owner: crm-analytics, refresh: daily, model: customer_metrics, column: preferred_channel,
   description: "Channel of most paid orders: web, app, mini_program or store."}
- {name: is_app_active_30d, kind: statistical, value_type: boolean, owner: app-team, refresh: daily, model: customer_metrics, column: is_app_active_30d,
   description: "Opened or used the app in the 30 days up to the as-of date."}
# rule: business rules over the facts and the profile
- {name: rfm_recency_score, kind: rule, value_type: integer, owner: crm-analytics, refresh: daily, model: customer_metrics, column: rfm_recency_score,
   description: "RFM recency quintile among buyers, 5 = bought most recently; equal values share a score."}
- {name: rfm_frequency_score, kind: rule, value_type: integer, owner: crm-analytics, refresh: daily, model: customer_metrics, column: rfm_frequency_score,
   description: "RFM frequency quintile among buyers, 5 = most orders."}
- {name: rfm_monetary_score, kind: rule, value_type: integer, owner: crm-analytics, refresh: daily, model: customer_metrics, column: rfm_monetary_score,
   description: "RFM monetary quintile among buyers, 5 = highest lifetime value."}
- {name: rfm_group, kind: rule, value_type: text, owner: crm-analytics, refresh: daily, model: customer_metrics, column: rfm_group,
   description: "champions, loyal, potential, new, at_risk, need_attention, hibernating or lost, from the R and F scores."}
- {name: lifecycle_stage, kind: rule, value_type: text, owner: crm-analytics, refresh: daily, model: customer_metrics, column: lifecycle_stage,
   description: "prospect (never bought), new (first order under 30 days ago), active (under 90), lapsing (under 180), churned."}
- {name: is_wechat_follower, kind: rule, value_type: boolean, owner: social-team, refresh: daily, model: customer_profiles, column: is_wechat_follower,
   description: "Follows the brand's WeChat official account (latest follower record)."}
- {name: member_tier, kind: rule, value_type: text, owner: loyalty-team, refresh: daily, model: customer_profiles, column: loyalty_tier,
   description: "Loyalty tier of the golden profile (bronze, silver, gold, platinum)."}
- {name: birthday_month, kind: rule, value_type: integer, owner: loyalty-team, refresh: daily, model: customer_profiles, expression: "cast(extract(month from birth_date) as integer)",
   description: "Month of the golden birth date (1-12)."}
# campaign response: fed back from activation (int_customer_campaign_responses)
- {name: responded_campaign_count, kind: statistical, value_type: integer, owner: crm-marketing, refresh: daily, model: int_customer_campaign_responses, column: responded_campaign_count,
   description: "Campaigns the customer responded to: clicked a message, or, when treated, bought within the effect window after it."}
- {name: last_responded_campaign, kind: rule, value_type: text, owner: crm-marketing, refresh: daily, model: int_customer_campaign_responses, column: last_responded_campaign_id,
   description: "The campaign of the customer's latest response."}
- {name: most_responsive_channel, kind: statistical, value_type: text, owner: crm-marketing, refresh: daily, model: int_customer_campaign_responses, column: most_responsive_channel,
   description: "The channel whose messages the customer opens and clicks most (email, sms, push, wechat, ads)."}
# predictive: one line per score column of marts.customer_scores (orchestration/ml); only
# customers who bought in the feature window are scored
- {name: churn_risk_score, kind: predictive, value_type: number, scale: 4, owner: data-science, refresh: daily, model: customer_scores, column: churn_risk_score,
   description: "Probability (0-1) of no purchase in the next 90 days (gradient boosting on behaviour features, docs/predictive-tags.md)."}
- {name: purchase_propensity_30d, kind: predictive, value_type: number, scale: 4, owner: data-science, refresh: daily, model: customer_scores, column: purchase_propensity_30d,
   description: "Probability (0-1) of a purchase in the next 30 days (gradient boosting on behaviour features)."}
- {name: customer_cluster, kind: predictive, value_type: text, owner: data-science, refresh: daily, model: customer_scores, column: cluster_name,
   description: "Behaviour cluster (k-means on recency, frequency, spend and activity); marts.cluster_profiles describes each."}
{%- endset -%}
{{ return(tianwen.validate_tag_definitions(fromyaml(declarations))) }}
{% endmacro %}


{#- Fail the build early, naming the fix, when a declaration is incomplete or wrong. -#}
{% macro validate_tag_definitions(tags) %}
{%- set kinds = ['statistical', 'rule', 'predictive'] -%}
{%- set value_types = ['number', 'integer', 'text', 'boolean', 'timestamp', 'date'] -%}
{%- set seen = [] -%}
{%- for tag in tags -%}
    {%- for key in ['name', 'kind', 'value_type', 'owner', 'refresh', 'description'] if not tag.get(key) -%}
        {{ exceptions.raise_compiler_error("tag " ~ tag.get('name', loop.index) ~ " has no " ~ key ~ ": add it to its declaration in macros/tags/tag_definitions.sql") }}
    {%- endfor -%}
    {%- if tag.kind not in kinds -%}
        {{ exceptions.raise_compiler_error("tag " ~ tag.name ~ ": kind " ~ tag.kind ~ " is not one of " ~ kinds | join(', ')) }}
    {%- endif -%}
    {%- if tag.value_type not in value_types -%}
        {{ exceptions.raise_compiler_error("tag " ~ tag.name ~ ": value_type " ~ tag.value_type ~ " is not one of " ~ value_types | join(', ')) }}
    {%- endif -%}
    {%- if (tag.get('model') and tag.get('source')) or not (tag.get('model') or tag.get('source')) -%}
        {{ exceptions.raise_compiler_error("tag " ~ tag.name ~ ": give exactly one of model or source") }}
    {%- endif -%}
    {%- if tag.get('source') and (tag.source is string or tag.source | length != 2) -%}
        {{ exceptions.raise_compiler_error("tag " ~ tag.name ~ ": source must be [source_name, table_name]") }}
    {%- endif -%}
    {%- if (tag.get('column') and tag.get('expression')) or not (tag.get('column') or tag.get('expression')) -%}
        {{ exceptions.raise_compiler_error("tag " ~ tag.name ~ ": give exactly one of column or expression") }}
    {%- endif -%}
    {%- if tag.get('history', true) not in [true, false] -%}
        {{ exceptions.raise_compiler_error("tag " ~ tag.name ~ ": history must be true or false") }}
    {%- endif -%}
    {%- if not modules.re.match('^[a-z][a-z0-9_]*$', tag.name) or tag.name in seen -%}
        {{ exceptions.raise_compiler_error("tag name " ~ tag.name ~ " is taken or not snake_case: tag names become column names of customer_tags_wide") }}
    {%- endif -%}
    {%- do seen.append(tag.name) -%}
{%- endfor -%}
{{ return(tags) }}
{% endmacro %}


{#- The SQL type of a tag's value (customer_tags_wide); a number has `scale` decimals (2). -#}
{% macro tag_sql_type(tag) %}
{{- return({
    'number': 'numeric(18, ' ~ tag.get('scale', 2) ~ ')',
    'integer': dbt.type_int(),
    'text': dbt.type_string(),
    'boolean': dbt.type_boolean(),
    'timestamp': dbt.type_timestamp(),
    'date': 'date',
}[tag.value_type]) -}}
{% endmacro %}


{#- The SQL that computes a tag's value, typed, from its model's columns. -#}
{% macro tag_value_sql(tag) %}
{{- return('cast(' ~ (tag.expression if tag.get('expression') else tag.column) ~ ' as ' ~ tianwen.tag_sql_type(tag) ~ ')') -}}
{% endmacro %}


{#- Where a tag's value comes from: a short key (CTE names, the catalog) and the relation. -#}
{% macro tag_origin(tag) %}
{{- return(tag.model if tag.get('model') else tag.source | join('__')) -}}
{% endmacro %}


{% macro tag_relation(tag) %}
{{- return(ref(tag.model) if tag.get('model') else source(tag.source[0], tag.source[1])) -}}
{% endmacro %}


{#- Pre-hook of the customer_tag_history snapshot: a snapshot kept before the history became
    one row per customer (one row per customer and tag, with tag_name and tag_value) cannot
    be continued in the new layout; stop before dbt mixes the two, naming the fix. -#}
{% macro require_wide_tag_history() %}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set existing = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- if existing is not none
          and 'tag_name' in (adapter.get_columns_in_relation(existing) | map(attribute='name') | map('lower') | list) -%}
        {{ exceptions.raise_compiler_error(
            existing ~ " has the old layout of the tag history (one row per customer and tag). Keep it under"
            ~ " another name and build again, which starts the new history (one row per customer): alter table "
            ~ existing ~ " rename to " ~ this.identifier ~ "_by_tag") }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
